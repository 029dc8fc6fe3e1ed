// Small pure pieces of the client: request ids, model URLs, input conversion, the memory cache and the race rule
// with scripted outcomes (no runtime, no network).

import { describe, expect, it } from 'vitest';
import type { ProgressiveResult } from '../../core/progressive-executor.js';
import { requestIdSchema, type ResultMessage } from '../../core/wire.js';
import { MemoryModelCache } from '../../client/model-cache.js';
import { edgeModelSource, staticModelSource } from '../../client/model-source.js';
import type { OffloadOutcome } from '../../client/offload.js';
import { raceOffload } from '../../client/race.js';
import { newRequestId } from '../../client/request-id.js';
import { sha256Hex } from '../../core/sha256.js';

describe('request ids', () => {
  it('are 22 url-safe characters, valid on the wire, and distinct', () => {
    const ids = new Set(Array.from({ length: 2000 }, () => newRequestId()));
    expect(ids.size).toBe(2000);
    for (const id of [...ids].slice(0, 50)) {
      expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
      expect(requestIdSchema.safeParse(id).success).toBe(true);
    }
    expect(newRequestId(32)).toHaveLength(43);
  });
});

describe('model sources', () => {
  it('edge layout, with and without a base URL', () => {
    const s = edgeModelSource('https://edge.example/', 'resnet56-fmnist');
    expect(s.manifestUrl).toBe('https://edge.example/v1/models/resnet56-fmnist/manifest');
    expect(s.fileUrl('blocks/block-00.onnx')).toBe(
      'https://edge.example/v1/models/resnet56-fmnist/files/blocks/block-00.onnx',
    );
    const b = edgeModelSource('https://edge.example', 'm', 'https://cdn.example/m/');
    expect(b.fileUrl('exits/exit-1.onnx')).toBe('https://cdn.example/m/files/exits/exit-1.onnx');
    expect(() => s.fileUrl('../secrets')).toThrow(/inside the model folder/);
    expect(() => s.fileUrl('/etc/passwd')).toThrow(/relative/);
  });

  it('static layout resolves files next to manifest.json', () => {
    const s = staticModelSource('https://cdn.example/models/m/manifest.json');
    expect(s.fileUrl('blocks/block-01.onnx')).toBe('https://cdn.example/models/m/blocks/block-01.onnx');
  });
});

describe('cache and hashing', () => {
  it('sha256 matches a known vector; the memory cache stores by hash', async () => {
    expect(await sha256Hex(new TextEncoder().encode('abc'))).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
    const c = new MemoryModelCache();
    await c.put('h', new Uint8Array([1]));
    expect(await c.get('h')).toEqual(new Uint8Array([1]));
    expect(await c.get('x')).toBeUndefined();
  });
});

describe('race rule (scripted)', () => {
  const exitResult = (blocks: number): ProgressiveResult => ({
    outcome: { kind: 'exit', exit: 6, label: 3, confidence: 0.9, probabilities: new Float32Array(10) },
    blocksRun: blocks,
    computeMs: blocks,
  });
  const done: OffloadOutcome = {
    kind: 'result',
    httpStatus: 200,
    roundTripMs: 5,
    message: { status: 'done', label: 1, exit: 2, confidence: 0.8 } as ResultMessage,
  };
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  /** A fake local run: `blocks` steps of `ms`, checking the cancel flag before each. */
  const localRun = (blocks: number, ms: number) => async (isCancelled: () => boolean) => {
    for (let b = 0; b < blocks; b++) {
      if (isCancelled())
        return { outcome: { kind: 'cancelled', atBlock: b }, blocksRun: b, computeMs: b } as const;
      await sleep(ms);
    }
    return exitResult(blocks);
  };
  const offload = (outcome: Promise<OffloadOutcome>) => {
    let aborted = false;
    return {
      call: { outcome, abort: () => void (aborted = true) },
      aborted: () => aborted,
    };
  };
  const now = () => performance.now();

  it('server first: the local run is cancelled before its next block', async () => {
    const o = offload(sleep(30).then(() => done));
    const r = await raceOffload({ offload: o.call, runLocal: localRun(50, 10), continuation: 'race', now });
    expect(r.winner).toBe('server');
    expect(r.local?.outcome.kind).toBe('cancelled');
    expect(r.local!.blocksRun).toBeLessThan(10);
    expect(o.aborted()).toBe(false);
  });

  it('local first: the offload is aborted and marked abandoned', async () => {
    const o = offload(sleep(500).then(() => done));
    const r = await raceOffload({ offload: o.call, runLocal: localRun(3, 1), continuation: 'race', now });
    expect(r).toMatchObject({ winner: 'local', server: null, abandoned: true });
    expect(o.aborted()).toBe(true);
  });

  it("failure: the local run answers; 'on-failure' starts it only then", async () => {
    const failed: OffloadOutcome = { kind: 'error', reason: 'network', error: 'refused', elapsedMs: 1 };
    let started = 0;
    const run = localRun(3, 1);
    const r = await raceOffload({
      offload: offload(sleep(20).then(() => failed)).call,
      runLocal: (c) => {
        started = performance.now();
        return run(c);
      },
      continuation: 'on-failure',
      now,
    });
    expect(r).toMatchObject({ winner: 'local', abandoned: true, server: { reason: 'network' } });
    expect(started).toBeGreaterThan(0);
  });

  it("'hedge': the local run never starts when the server answers in time", async () => {
    let started = false;
    const run = localRun(3, 1);
    const r = await raceOffload({
      offload: offload(sleep(20).then(() => done)).call,
      runLocal: (c) => {
        started = true;
        return run(c);
      },
      continuation: 'hedge',
      hedgeAfterMs: 200,
      now,
    });
    expect(r.winner).toBe('server');
    expect(r.local).toBeNull();
    expect(started).toBe(false);
  });

  it("'hedge': an overdue server is raced from then on, and a failure starts the local run at once", async () => {
    const t0 = performance.now();
    let started = 0;
    const run = localRun(3, 1);
    const overdue = offload(sleep(1000).then(() => done));
    const r = await raceOffload({
      offload: overdue.call,
      runLocal: (c) => {
        started = performance.now() - t0;
        return run(c);
      },
      continuation: 'hedge',
      hedgeAfterMs: 40,
      now,
    });
    expect(r).toMatchObject({ winner: 'local', abandoned: true });
    expect(overdue.aborted()).toBe(true);
    expect(started).toBeGreaterThanOrEqual(35);
    expect(started).toBeLessThan(500);

    const failed: OffloadOutcome = { kind: 'error', reason: 'network', error: 'refused', elapsedMs: 1 };
    const t1 = performance.now();
    const f = await raceOffload({
      offload: offload(sleep(5).then(() => failed)).call,
      runLocal: localRun(3, 1),
      continuation: 'hedge',
      hedgeAfterMs: 10_000,
      now,
    });
    expect(f).toMatchObject({ winner: 'local', server: { reason: 'network' } });
    expect(performance.now() - t1).toBeLessThan(1000); // not after the 10 s hedge
  });

  it("'hedge' without a known server time races at once", async () => {
    const o = offload(sleep(500).then(() => done));
    const r = await raceOffload({ offload: o.call, runLocal: localRun(3, 1), continuation: 'hedge', now });
    expect(r).toMatchObject({ winner: 'local', abandoned: true });
  });

  it('a local error is surfaced only when the server cannot answer either', async () => {
    const boom = async () => {
      throw new Error('wasm crashed');
    };
    const ok = await raceOffload({
      offload: offload(sleep(10).then(() => done)).call,
      runLocal: boom,
      continuation: 'race',
      now,
    });
    expect(ok.winner).toBe('server');
    const failed: OffloadOutcome = { kind: 'error', reason: 'http', error: '500', elapsedMs: 1 };
    await expect(
      raceOffload({
        offload: offload(Promise.resolve(failed)).call,
        runLocal: boom,
        continuation: 'race',
        now,
      }),
    ).rejects.toThrow('wasm crashed');
  });
});

describe('device scale', () => {
  it('compares measured steps with the onnxruntime-web device profile and smooths them', async () => {
    const { measureDeviceSample, DeviceScaleEstimator } = await import('../../client/device-scale.js');
    const { readManifest } = await import('./support/reference.js');
    const m = readManifest();
    const steps = [
      { kind: 'block' as const, index: 0, ms: 2 },
      { kind: 'block' as const, index: 1, ms: 4 },
    ];
    expect(measureDeviceSample(steps, { ...m, profile: undefined })).toBeUndefined();
    const latency = {
      host: 'test',
      runtime: 'onnxruntime-web' as const,
      executionProvider: 'wasm',
      role: 'device' as const,
      threads: 1,
      repeats: 1,
      blockMs: m.blocks.map(() => 1),
      exitMs: m.exits.map(() => 1),
      measuredAt: 'now',
    };
    const profile = {
      dataset: { name: 'x', split: 'test', samples: 1 },
      exitAccuracy: [],
      thresholds: [],
      latency: [latency],
    };
    expect(measureDeviceSample(steps, { ...m, profile })).toEqual({ measuredMs: 6, profiledMs: 2 });
    // A throttled device stalls between the steps too: the phase's wall time (20 ms for 2 profiled ms) counts.
    expect(measureDeviceSample(steps, { ...m, profile }, 20)).toEqual({ measuredMs: 20, profiledMs: 2 });
    // Never below the steps' own time.
    expect(measureDeviceSample(steps, { ...m, profile }, 1)).toEqual({ measuredMs: 6, profiledMs: 2 });
    // A ratio of sums: a long request weighs what it costs. 2 ms for 1 profiled, then 40 for 10: 42 / 11.
    const e = new DeviceScaleEstimator(3);
    const at = (measuredMs: number, profiledMs: number) => ({ measuredMs, profiledMs });
    expect(e.add(at(2, 1))).toBe(2);
    expect(e.add(at(40, 10))).toBeCloseTo(42 / 11, 12);
    expect(e.add(undefined)).toBeCloseTo(42 / 11, 12);
    // From three samples on, a request stalled beyond 5× the estimate counts as 5× the estimate.
    const before = e.add(at(4, 2))!;
    expect(before).toBeCloseTo(46 / 13, 12);
    const after = e.add(at(1000, 2))!; // window of 3: (40, 4, capped) over (10, 2, 2)
    expect(after).toBeCloseTo((40 + 4 + 5 * before * 2) / 14, 12);
    expect(after).toBeLessThan(10);
  });
});
