import { describe, expect, it } from 'vitest';
import {
  accuracyAwareChoice,
  chooseCodec,
  lossAt,
  transferSavedMs,
  worthCompressing,
} from '../../core/codec-choice.js';
import type { CodecMeasurement, ModelManifest } from '../../core/manifest.js';
import { writeFixtureAssets } from '../support/fixture-model.js';

const T = [0.5, 0.9, 1];
const m = (bits: number, changeAt1: number, byT: number[], meanBytes: number): CodecMeasurement => ({
  split: 1,
  scheme: bits === 32 ? 'lossless' : 'quant',
  bits,
  meanBytes,
  encodeMsP50: 0.5,
  encodeMsP95: 1,
  decodeMsP50: 0.2,
  decodeMsP95: 0.4,
  accuracyChangePp: changeAt1,
  accuracyChangePpByThreshold: byT,
});
const entries = [
  m(32, 0, [0, 0, 0], 60),
  m(8, -0.1, [0, -0.1, -0.1], 30),
  m(6, -0.2, [0, -0.5, -0.2], 20),
  m(4, -1, [-0.1, -1, -1], 10),
];

describe('accuracy-aware choice', () => {
  it('takes the smallest bit-width within the budget', () => {
    expect(accuracyAwareChoice(entries, T, 0.3)?.bits).toBe(6);
    expect(accuracyAwareChoice(entries, T, 1)?.bits).toBe(4);
    expect(accuracyAwareChoice(entries, T, 0.1)?.bits).toBe(8);
    expect(accuracyAwareChoice(entries, T, 0.05)?.scheme).toBe('lossless');
  });

  it('reads the loss at the request threshold, conservatively between grid points', () => {
    expect(lossAt(entries[2]!, T, 0.9)).toBe(0.5);
    expect(lossAt(entries[2]!, T, 0.7)).toBe(0.5); // worse of 0.5 and 0.9
    expect(lossAt(entries[2]!, T, 0.5)).toBe(0);
    expect(accuracyAwareChoice(entries, T, 0.3, 0.9)?.bits).toBe(8);
    expect(accuracyAwareChoice(entries, T, 0.3, 0.5)?.bits).toBe(4);
  });
});

describe('cost-aware rule', () => {
  it('compresses only when codec time is below the transfer time saved', () => {
    // 1000 bytes saved at 1 MB/s = 1 ms.
    expect(transferSavedMs({ fp32Bytes: 2000, encodedBytes: 1000, bandwidthBps: 1e6 })).toBeCloseTo(1);
    expect(
      worthCompressing({
        fp32Bytes: 2000,
        encodedBytes: 1000,
        encodeMs: 0.4,
        decodeMs: 0.5,
        bandwidthBps: 1e6,
      }),
    ).toBe(true);
    expect(
      worthCompressing({
        fp32Bytes: 2000,
        encodedBytes: 1000,
        encodeMs: 0.6,
        decodeMs: 0.5,
        bandwidthBps: 1e6,
      }),
    ).toBe(false);
    expect(
      worthCompressing({ fp32Bytes: 2000, encodedBytes: 1000, encodeMs: 0, decodeMs: 0, bandwidthBps: 0 }),
    ).toBe(false);
  });

  it('chooseCodec combines both rules and falls back to fp32 on a fast link', () => {
    const base = writeFixtureAssets().manifest;
    const thresholds = T.map((threshold) => ({
      threshold,
      exitFraction: base.exits.map(() => 0),
      accuracy: 0.9,
    }));
    const manifest: ModelManifest = {
      ...base,
      profile: {
        dataset: { name: 'x', split: 'test', samples: 1 },
        exitAccuracy: base.exits.map(() => 0.9),
        thresholds,
        latency: [],
        codec: { host: 'h', runtime: 'r', measuredAt: 'now', accuracySamples: 1, sizeSamples: 1, entries },
      },
    };
    expect(chooseCodec({ manifest, split: 1 }).codec).toEqual({ scheme: 'quant', bits: 6 });
    expect(chooseCodec({ manifest, split: 1, accuracyBudgetPp: 2 }).codec).toEqual({
      scheme: 'quant',
      bits: 4,
    });
    // fp32 is 128 B at split 1 of the fixture: saving ~118 B at 1 kB/s is 118 ms, far more than 0.7 ms of codec.
    expect(chooseCodec({ manifest, split: 1, bandwidthBps: 1000 }).codec.scheme).toBe('quant');
    // At 1 GB/s the transfer saved is ~0.0001 ms: send fp32.
    expect(chooseCodec({ manifest, split: 1, bandwidthBps: 1e9 }).codec).toEqual({ scheme: 'fp32' });
    expect(chooseCodec({ manifest, split: 2 }).codec).toEqual({ scheme: 'fp32' }); // not profiled
    expect(chooseCodec({ manifest: base, split: 1 }).codec).toEqual({ scheme: 'fp32' }); // no profile
  });
});
