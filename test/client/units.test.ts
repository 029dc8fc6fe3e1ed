// Small pure pieces of the client: request ids, model URLs, input conversion, the memory cache and the race rule
// with scripted outcomes (no runtime, no network).

import { describe, expect, it } from 'vitest';
import type { ProgressiveResult } from '../../core/progressive-executor.js';
import { requestIdSchema, type ResultMessage } from '../../core/wire.js';
import { resolveOptions } from '../../client/client-options.js';
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

describe('options', () => {
  const base = { edgeUrl: 'http://edge.test/', modelId: 'm', fetch: globalThis.fetch };
  it('compute runs on the calling thread unless the wasm proxy or the caller says otherwise', () => {
    expect(resolveOptions(base).computeOffThread).toBe(false);
    expect(resolveOptions({ ...base, wasmProxy: true }).computeOffThread).toBe(true);
    expect(resolveOptions({ ...base, wasmProxy: true, computeOffThread: false }).computeOffThread).toBe(
      false,
    );
    expect(resolveOptions({ ...base, computeOffThread: true }).computeOffThread).toBe(true);
    expect(resolveOptions(base).edgeUrl).toBe('http://edge.test');
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

describe('race rule (scripted with gates: which side is first is decided by the test, never by timers)', () => {
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
  const failed: OffloadOutcome = { kind: 'error', reason: 'network', error: 'refused', elapsedMs: 1 };
  /** A promise the test settles when it decides to. */
  function gate<T = void>() {
    let open!: (v: T) => void;
    const promise = new Promise<T>((r) => (open = r));
    return { promise, open };
  }
  const turn = () => new Promise((r) => setImmediate(r));
  /**
   * A fake local run of `blocks` steps, checking the cancel flag before each; `beforeBlock(b)` may hold a step
   * (await a gate) or open the server's gate at a chosen block.
   */
  const localRun =
    (blocks: number, beforeBlock: (b: number) => unknown = () => undefined) =>
    async (isCancelled: () => boolean) => {
      for (let b = 0; b < blocks; b++) {
        await beforeBlock(b);
        await turn(); // let an answer that arrived be seen, as a real block boundary does
        if (isCancelled())
          return { outcome: { kind: 'cancelled', atBlock: b }, blocksRun: b, computeMs: b } as const;
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
  const never = new Promise<OffloadOutcome>(() => {});

  it('server first: the local run is cancelled before its next block', async () => {
    const server = gate<OffloadOutcome>();
    const o = offload(server.promise);
    const run = localRun(50, (b) => b === 3 && server.open(done));
    const r = await raceOffload({ offload: o.call, runLocal: run, continuation: 'race', now });
    expect(r.winner).toBe('server');
    expect(r.local?.outcome).toEqual({ kind: 'cancelled', atBlock: 3 });
    expect(o.aborted()).toBe(false);
  });

  it('local first: the offload is aborted and marked abandoned', async () => {
    const o = offload(never);
    const r = await raceOffload({ offload: o.call, runLocal: localRun(3), continuation: 'race', now });
    expect(r).toMatchObject({ winner: 'local', server: null, abandoned: true });
    expect(o.aborted()).toBe(true);
  });

  it("failure: the local run answers; 'on-failure' starts it only then", async () => {
    const server = gate<OffloadOutcome>();
    let startedAfterFailure: boolean | undefined;
    let failedYet = false;
    const r = raceOffload({
      offload: offload(server.promise.then((o) => ((failedYet = true), o))).call,
      runLocal: (c) => {
        startedAfterFailure = failedYet;
        return localRun(3)(c);
      },
      continuation: 'on-failure',
      now,
    });
    for (let i = 0; i < 5; i++) await turn();
    expect(startedAfterFailure).toBeUndefined(); // not started while the server is still out
    server.open(failed);
    expect(await r).toMatchObject({ winner: 'local', abandoned: true, server: { reason: 'network' } });
    expect(startedAfterFailure).toBe(true);
  });

  it("'hedge': the local run never starts when the server answers in time", async () => {
    let started = false;
    const r = await raceOffload({
      offload: offload(Promise.resolve(done)).call,
      runLocal: (c) => {
        started = true;
        return localRun(3)(c);
      },
      continuation: 'hedge',
      hedgeAfterMs: 3_600_000, // an hour: only the server's answer can end this race
      now,
    });
    expect(r.winner).toBe('server');
    expect(r.local).toBeNull();
    expect(started).toBe(false);
  });

  it("'hedge': an overdue server is raced from then on, and a failure starts the local run at once", async () => {
    const overdue = offload(never);
    let startedAt = -1;
    const t0 = performance.now();
    const r = await raceOffload({
      offload: overdue.call,
      runLocal: (c) => {
        startedAt = performance.now() - t0;
        return localRun(3)(c);
      },
      continuation: 'hedge',
      hedgeAfterMs: 40,
      now,
    });
    expect(r).toMatchObject({ winner: 'local', abandoned: true });
    expect(overdue.aborted()).toBe(true);
    expect(startedAt).toBeGreaterThanOrEqual(39); // not before the server is overdue (a lower bound only)

    // With an hour's hedge, only the failure can start the local run: returning at all proves it did.
    const f = await raceOffload({
      offload: offload(Promise.resolve(failed)).call,
      runLocal: localRun(3),
      continuation: 'hedge',
      hedgeAfterMs: 3_600_000,
      now,
    });
    expect(f).toMatchObject({ winner: 'local', server: { reason: 'network' } });
  });

  it("'hedge' without a known server time races at once", async () => {
    const o = offload(never);
    const r = await raceOffload({ offload: o.call, runLocal: localRun(3), continuation: 'hedge', now });
    expect(r).toMatchObject({ winner: 'local', abandoned: true });
  });

  it('a local error is surfaced only when the server cannot answer either', async () => {
    const boom = async () => {
      throw new Error('wasm crashed');
    };
    const ok = await raceOffload({
      offload: offload(Promise.resolve(done)).call,
      runLocal: boom,
      continuation: 'race',
      now,
    });
    expect(ok.winner).toBe('server');
    const httpFailed: OffloadOutcome = { kind: 'error', reason: 'http', error: '500', elapsedMs: 1 };
    await expect(
      raceOffload({
        offload: offload(Promise.resolve(httpFailed)).call,
        runLocal: boom,
        continuation: 'race',
        now,
      }),
    ).rejects.toThrow('wasm crashed');
  });
});
