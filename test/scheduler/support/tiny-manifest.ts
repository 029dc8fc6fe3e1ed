// A 4-block, 2-exit model with round profile numbers, so scheduler tests can be checked by hand:
// device blocks 1,2,3,4 ms and exits 0.5,1 ms; server blocks 0.1..0.4 ms and exits 0.05,0.1 ms; exit 0 after
// block 1, the final exit after block 3; split bytes 100, 200, 50, 50.

import type { CodecProfile, ModelManifest, ModelProfile } from '../../../core/manifest.js';

const sha = '0'.repeat(64);
const t = (name: string, shape: number[]) => ({ name, shape, dtype: 'float32' as const });

export function tinyManifest(extraProfile: Partial<ModelProfile> = {}): ModelManifest {
  const blocks = [0, 1, 2, 3].map((i) => ({
    index: i,
    file: `b${i}.onnx`,
    sha256: sha,
    bytes: 1,
    inputs: [t(`a${i}`, [1, 1])],
    outputs: [t(`a${i + 1}`, [1, 1])],
    macs: 1,
    params: 1,
  }));
  const exit = (index: number, afterBlock: number, final: boolean) => ({
    index,
    afterBlock,
    file: `e${index}.onnx`,
    sha256: sha,
    bytes: 1,
    input: t(`a${afterBlock + 1}`, [1, 1]),
    output: t(`l${index}`, [1, 2]),
    macs: 1,
    params: 1,
    macsFraction: final ? 1 : 0.5,
    final,
  });
  const bytes = [100, 200, 50, 50];
  return {
    formatVersion: 1,
    id: 'tiny',
    input: t('a0', [1, 1]),
    classes: ['x', 'y'],
    blocks,
    exits: [exit(0, 1, false), exit(1, 3, true)],
    splits: bytes.map((b, split) => ({ split, tensor: t(`a${split}`, [1, 1]), fp32Bytes: b })),
    profile: {
      dataset: { name: 'tiny', split: 'test', samples: 10 },
      exitAccuracy: [0.7, 0.9],
      thresholds: [
        { threshold: 0, exitFraction: [1, 0], accuracy: 0.7 },
        { threshold: 0.5, exitFraction: [0.6, 0.4], accuracy: 0.8 },
        { threshold: 0.8, exitFraction: [0.3, 0.7], accuracy: 0.88 },
        { threshold: 1, exitFraction: [0, 1], accuracy: 0.9 },
      ],
      latency: [
        {
          host: 'hand',
          runtime: 'onnxruntime-web',
          executionProvider: 'wasm',
          role: 'device',
          threads: 1,
          repeats: 1,
          blockMs: [1, 2, 3, 4],
          exitMs: [0.5, 1],
          measuredAt: 'x',
        },
        {
          host: 'hand',
          runtime: 'onnxruntime-node',
          executionProvider: 'cpu',
          role: 'server-estimate',
          threads: 1,
          repeats: 1,
          blockMs: [0.1, 0.2, 0.3, 0.4],
          exitMs: [0.05, 0.1],
          measuredAt: 'x',
        },
      ],
      ...extraProfile,
    },
  };
}

/** A codec profile with one 8-bit entry at `split` of `meanBytes` (encode 0.5 ms, decode 0.25 ms, −0.5 pp). */
export function q8Codec(split: number, meanBytes: number): CodecProfile {
  const entry = {
    split,
    scheme: 'quant' as const,
    bits: 8,
    meanBytes,
    encodeMsP50: 0.5,
    encodeMsP95: 1,
    decodeMsP50: 0.25,
    decodeMsP95: 1,
    accuracyChangePp: -0.5,
    accuracyChangePpByThreshold: [0, -0.2, -0.4, -0.5],
  };
  return { host: 'h', runtime: 'r', measuredAt: 'x', accuracySamples: 1, sizeSamples: 1, entries: [entry] };
}
