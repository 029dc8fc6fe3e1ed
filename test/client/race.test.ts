// (c) Offload, race and fallback against a real HTTP edge stand-in (node:http, its own process) whose results are
// computed by onnxruntime-node over the same block files: server-first stops the local run, local-first aborts the
// offload and sends DELETE, and network failures, timeouts, HTTP errors and `failed` results end in a correct device
// answer. Also: split 0 (server-only), following the edge's plan, hash-checked downloads with a shared cache.

import type { InferenceSession } from 'onnxruntime-common';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  MemoryModelCache,
  ModelLoadError,
  SpinnClient,
  type SpinnClientOptions,
} from '../../client/index.js';
import { loadOrtWebForNode } from '../../client/node/ort-node.js';
import type { OrtModule } from '../../client/ort-module.js';
import { gatedOrt } from '../support/gated-ort.js';
import { startEdgeStub, type EdgeStub } from './support/edge-stub.js';
import { loadFmnistTest } from './support/fmnist.js';
import { expectedAnswer, MODEL_ID, readManifest, referenceLogits } from './support/reference.js';

const manifest = readManifest();
const N = manifest.blocks.length;
const FILES = N + manifest.exits.length;
const samples = loadFmnistTest(12);
let reference: Float32Array[][];
let ort: OrtModule;
let edge: EdgeStub;
const cache = new MemoryModelCache(); // shared: the model is downloaded once for the whole file
const clients: SpinnClient[] = [];

/**
 * onnxruntime-web whose every session.run first busy-waits `ms` — a slow device whose speed is a lower bound
 * (busy-waiting on the clock cannot be made faster by load), for the timeout test. Busy-waiting (not sleeping) blocks
 * the event loop like real wasm compute does, so the test also proves the client yields between blocks.
 */
function slowOrt(inner: OrtModule, ms: number): OrtModule {
  return {
    Tensor: inner.Tensor,
    env: inner.env,
    InferenceSession: {
      create: async (bytes, options) => {
        const s = await inner.InferenceSession.create(bytes, options);
        return {
          run: (feeds: InferenceSession.FeedsType) => {
            const until = performance.now() + ms;
            while (performance.now() < until);
            return s.run(feeds);
          },
          release: () => s.release(),
        } as unknown as InferenceSession;
      },
    },
  };
}

/**
 * Makes "the server answers first" true by construction: the device's first block after `split` waits until the
 * client has read the offload's answer (or seen its connection fail), and a turn of the event loop more, by which time the race has seen it (the
 * client's read → decode → race bookkeeping is one chain of microtasks). No speed of either side can change who wins.
 */
function serverFirst(split: number): Pick<SpinnClientOptions, 'fetch' | 'ort'> {
  let answered = Promise.resolve();
  const gatedFetch: typeof fetch = async (input, init) => {
    if (init?.method !== 'POST' || !String(input).endsWith('/v1/infer')) return fetch(input, init);
    let open!: () => void;
    answered = new Promise((r) => (open = r));
    let res: Response;
    try {
      res = await fetch(input, init);
    } catch (e) {
      // A reset or refused connection is the offload's answer too: the device's rest may run once it is seen.
      setImmediate(open);
      throw e;
    }
    const buf = await res.arrayBuffer();
    const out = new Response(buf, { status: res.status, headers: res.headers });
    out.arrayBuffer = () => {
      setImmediate(open);
      return Promise.resolve(buf);
    };
    return out;
  };
  return { fetch: gatedFetch, ort: gatedOrt(ort, manifest.blocks[split]!.sha256, () => answered) };
}

function client(options: Partial<SpinnClientOptions> = {}): SpinnClient {
  const c = new SpinnClient({
    edgeUrl: edge.url,
    modelId: MODEL_ID,
    ort,
    cache,
    followEdgePlan: false,
    warmup: options.ort === undefined, // warming up a slowed runtime only burns test time
    ...options,
  });
  clients.push(c);
  return c;
}

async function eventually(check: () => Promise<boolean>, ms = 3000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

beforeAll(async () => {
  [ort, reference, edge] = await Promise.all([
    loadOrtWebForNode({ numThreads: 1 }),
    referenceLogits(manifest, samples),
    startEdgeStub(),
  ]);
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.dispose()));
  await edge.reset();
});
afterAll(() => edge?.close());

const finalLabel = (i: number) => expectedAnswer(reference[i]!, 1, manifest).label;

describe('SpinnClient offload and race', () => {
  it('downloads each file once, verifies hashes, and reuses a shared cache', async () => {
    await client().load();
    let gets = (await edge.records()).fileGets;
    expect(new Set(gets).size).toBe(FILES);
    expect(gets.length).toBe(FILES);
    await client({ preload: 'all', warmup: false }).load();
    expect((await edge.records()).fileGets.length).toBe(FILES); // all from the cache
    await edge.configure({ corruptFile: manifest.blocks[3]!.file });
    const fresh = client({ cache: new MemoryModelCache(), warmup: false });
    await expect(fresh.load()).rejects.toBeInstanceOf(ModelLoadError);
    await expect(fresh.load()).rejects.toThrow(/block-03\.onnx .* has sha256 [0-9a-f]{64} .* manifest says/);
    gets = (await edge.records()).fileGets;
    expect(gets.length).toBeGreaterThan(FILES);
  });

  it('server answers first: local continuation stops, server answer returned', async () => {
    const c = client(serverFirst(4));
    await c.load();
    for (const i of [0, 1, 2]) {
      // Lossless codec: the server's answer must equal the exact model's, and fewer bytes cross the wire.
      const r = await c.classify(samples[i]!.pixels, {
        plan: { split: 4, threshold: 1, codec: { scheme: 'lossless' } },
      });
      expect(r.decidedBy, JSON.stringify(r)).toBe('server');
      expect(r.serverStatus).toBe('done');
      expect(r.label).toBe(finalLabel(i));
      expect(r.exit).toBe(manifest.exits.length - 1);
      expect(r.cancelledServer).toBe(false);
      expect(r.blocks.device).toBe(4);
      expect(r.blocks.server).toBe(N - 4);
      console.log(
        `[client] server-first: local ran ${r.blocks.localAfterSplit}/${N - 4} blocks after the split; ` +
          `roundTrip ${r.timings.roundTripMs!.toFixed(0)} ms, server ${r.timings.serverMs!.toFixed(0)} ms`,
      );
      expect(r.blocks.localAfterSplit).toBeLessThanOrEqual(1); // stopped at its first block boundary
      expect(r.bytesSent).toBeLessThan(manifest.splits[4]!.fp32Bytes);
      expect(r.timings.serverMs).toBeGreaterThan(0);
      expect(r.timings.uploadMs).not.toBeNull();
      expect(r.timings.roundTripMs).toBeGreaterThanOrEqual(r.timings.uploadMs!);
      const sent = (await edge.records()).offloads.find((o) => o.requestId === r.requestId)!;
      expect(sent).toMatchObject({ split: 4, threshold: 1, modelId: MODEL_ID, shape: [1, 16, 32, 32] });
      expect(sent.dataBytes).toBeLessThan(manifest.splits[4]!.fp32Bytes * 0.8); // ~0.55 measured
      expect(sent.bytes).toBe(r.bytesSent);
    }
    expect((await edge.records()).deletes).toEqual([]);
  });

  it('local continuation answers first: fetch aborted, DELETE sent, local answer returned', async () => {
    // The stand-in answers in 10 minutes, and no timeout is near: only the device can decide.
    await edge.configure({ delayMs: 600_000 });
    const c = client({ offloadTimeoutMs: 600_000 });
    const r = await c.classify(samples[3]!.pixels, { plan: { split: 8, threshold: 1 } });
    expect(r.decidedBy).toBe('device-race');
    expect(r.label).toBe(finalLabel(3));
    expect(r.cancelledServer).toBe(true);
    expect(r.serverStatus).toBeUndefined();
    expect(r.blocks).toMatchObject({ device: 8, localAfterSplit: N - 8, server: null });
    await c.whenIdle();
    expect((await edge.records()).deletes).toContain(r.requestId);
    expect(c.cancels.find((x) => x.requestId === r.requestId)?.outcome.ok).toBe(true);
    await eventually(async () => (await edge.records()).aborted.includes(r.requestId));
  });

  it('a local early exit after the split also wins the race', async () => {
    await edge.configure({ delayMs: 600_000 });
    const c = client({ offloadTimeoutMs: 600_000 });
    const threshold = 0.9;
    const i = samples.findIndex((_, k) => {
      const w = expectedAnswer(reference[k]!, threshold, manifest);
      return w.exit > 0 && w.exit < manifest.exits.length - 1;
    });
    expect(i).toBeGreaterThanOrEqual(0);
    const want = expectedAnswer(reference[i]!, threshold, manifest);
    const split = manifest.exits[want.exit]!.afterBlock; // the answering exit is the first after the split
    const r = await c.classify(samples[i]!.pixels, { plan: { split, threshold } });
    expect(r).toMatchObject({
      decidedBy: 'device-race',
      exit: want.exit,
      label: want.label,
      cancelledServer: true,
    });
    await c.whenIdle();
    expect((await edge.records()).deletes).toContain(r.requestId);
  });

  it('connection reset → device-fallback with the right label', async () => {
    await edge.configure({ mode: 'reset' });
    // Gated: the reset is seen before the device's rest may run (ungated, a loaded machine let the device's hedge
    // finish first once: device-race).
    const r = await client(serverFirst(4)).classify(samples[4]!.pixels, { plan: { split: 4, threshold: 1 } });
    expect(r.decidedBy).toBe('device-fallback');
    expect(r.offloadError?.reason).toBe('network');
    expect(r.label).toBe(finalLabel(4));
    expect(r.blocks.localAfterSplit).toBe(N - 4);
  });

  it('edge unreachable (closed port) → device-fallback, never rejects', async () => {
    const c = client({
      ...serverFirst(12),
      edgeUrl: 'http://127.0.0.1:9',
      modelBaseUrl: `${edge.url}/v1/models/${MODEL_ID}/`,
    });
    const r = await c.classify(samples[5]!.pixels, { plan: { split: 12, threshold: 1 } });
    expect(r.decidedBy).toBe('device-fallback');
    expect(r.offloadError?.reason).toBe('network');
    expect(r.label).toBe(finalLabel(5));
    await c.whenIdle(); // the DELETE to a dead edge fails quietly
  });

  it('server too slow → timeout, DELETE, device-fallback', async () => {
    await edge.configure({ mode: 'hang' });
    const c = client({ ort: slowOrt(ort, 20), offloadTimeoutMs: 150 }); // the local rest takes ≥ 480 ms
    const r = await c.classify(samples[6]!.pixels, { plan: { split: 4, threshold: 1 } });
    expect(r.decidedBy).toBe('device-fallback');
    expect(r.offloadError?.reason).toBe('timeout');
    expect(r.cancelledServer).toBe(true);
    expect(r.label).toBe(finalLabel(6));
    await c.whenIdle();
    expect((await edge.records()).deletes).toContain(r.requestId);
  });

  it('HTTP 500 and a `failed` result → device-fallback', async () => {
    await edge.configure({ mode: 'http-500' });
    // Gated like the `failed` case below: the 500 is read before the device's rest may run (ungated, a loaded machine
    // once let the device finish first: device-race).
    const a = await client(serverFirst(4)).classify(samples[7]!.pixels, { plan: { split: 4, threshold: 1 } });
    expect(a).toMatchObject({ decidedBy: 'device-fallback', label: finalLabel(7), cancelledServer: false });
    expect(a.offloadError).toMatchObject({ reason: 'http', httpStatus: 500 });
    await edge.configure({ mode: 'status-failed' });
    const c = client(serverFirst(20)); // the `failed` answer is in before the device's rest runs
    const b = await c.classify(samples[8]!.pixels, { plan: { split: 20, threshold: 1 } });
    expect(b).toMatchObject({ decidedBy: 'device-fallback', label: finalLabel(8), serverStatus: 'failed' });
    expect(b.offloadError).toMatchObject({ reason: 'failed', message: 'GPU on fire' });
  });

  it("'on-failure' continuation: no local work while the server answers; fallback after a failure", async () => {
    const c = client({ localContinuation: 'on-failure' });
    const r = await c.classify(samples[9]!.pixels, { plan: { split: 4, threshold: 1 } });
    expect(r).toMatchObject({ decidedBy: 'server', label: finalLabel(9) });
    expect(r.blocks.localAfterSplit).toBe(0);
    await edge.configure({ mode: 'http-500' });
    const f = await c.classify(samples[9]!.pixels, { plan: { split: 4, threshold: 1 } });
    expect(f).toMatchObject({ decidedBy: 'device-fallback', label: finalLabel(9) });
    expect(f.blocks.localAfterSplit).toBe(N - 4);
  });

  it('split 0 sends the preprocessed input (server-only)', async () => {
    const c = client(serverFirst(0));
    const r = await c.classify(samples[10]!.pixels, {
      plan: { split: 0, threshold: 1, codec: { scheme: 'fp32' } },
    });
    expect(r).toMatchObject({ decidedBy: 'server', label: finalLabel(10) });
    expect(r.blocks.device).toBe(0);
    expect(r.timings.deviceMs).toBe(0);
    const sent = (await edge.records()).offloads.find((o) => o.requestId === r.requestId)!;
    expect(sent.shape).toEqual([1, 1, 32, 32]);
    expect(sent.dataBytes).toBe(manifest.splits[0]!.fp32Bytes);
  });

  it('split 0 without a codec sends the image as uint8 pixels (u8), which the server normalises', async () => {
    const c = client(serverFirst(0));
    const r = await c.classify(samples[10]!.pixels, { plan: { split: 0, threshold: 1 } });
    expect(r).toMatchObject({
      decidedBy: 'server',
      label: finalLabel(10),
      plan: { codec: { scheme: 'u8' } },
    });
    const sent = (await edge.records()).offloads.find((o) => o.requestId === r.requestId)!;
    expect(sent.shape).toEqual([1, 1, 32, 32]);
    expect(sent.dataBytes).toBe(32 * 32); // one byte per pixel, the 2-pixel zero border included
  });

  it('classify(input, { signal }): an abort during the offload rejects like fetch and cancels at the edge', async () => {
    await edge.configure({ mode: 'hang' });
    let requestId = '';
    const c = client({ localContinuation: 'on-failure', onStep: (s) => (requestId = s.requestId) });
    await c.load();
    const before = new AbortController();
    before.abort();
    await expect(c.classify(samples[0]!.pixels, { signal: before.signal })).rejects.toMatchObject({
      name: 'AbortError',
    });
    const controller = new AbortController();
    const call = c.classify(samples[0]!.pixels, {
      plan: { split: 4, threshold: 1 },
      signal: controller.signal,
    });
    // Abort once the offload is at the edge (the stub hangs it): decided by the stub's record, not by a clock.
    const offloaded = async () => (await edge.records()).offloads.some((o) => o.requestId === requestId);
    await eventually(offloaded, 30_000);
    controller.abort();
    await expect(call).rejects.toMatchObject({ name: 'AbortError' });
    await eventually(async () => (await edge.records()).deletes.includes(requestId), 30_000);
    // The client is usable afterwards.
    await edge.configure({ mode: 'ok' });
    expect((await c.classify(samples[1]!.pixels, { plan: { split: N } })).decidedBy).toBe('device');
  });

  it('follows the plan the edge returns (followEdgePlan), or not', async () => {
    await edge.configure({ nextPlan: { split: 8, threshold: 0.95, codec: { scheme: 'fp32' } } });
    // 'on-failure': the server's answer (and the next plan riding on it) always arrives; a racing device could win first.
    const follower = client({
      followEdgePlan: true,
      plan: { split: 4, threshold: 1 },
      localContinuation: 'on-failure',
    });
    const a = await follower.classify(samples[11]!.pixels);
    // No codec in the plan: the accuracy-aware choice from the manifest's codec profile (0.3 pp budget).
    expect(a.plan).toMatchObject({ split: 4, threshold: 1, codec: { scheme: 'quant' } });
    expect(a.nextPlan).toMatchObject({ split: 8, threshold: 0.95 });
    expect(await follower.plan()).toEqual({ split: 8, threshold: 0.95, codec: { scheme: 'fp32' } });
    await edge.configure({ nextPlan: { split: 99, threshold: 0.5, codec: { scheme: 'fp32' } } }); // impossible
    const b = await follower.classify(samples[11]!.pixels);
    expect(b.plan).toEqual({ split: 8, threshold: 0.95, codec: { scheme: 'fp32' } });
    expect(await follower.plan()).toEqual({ split: 8, threshold: 0.95, codec: { scheme: 'fp32' } }); // the impossible plan was ignored
    const c2 = await follower.classify(samples[11]!.pixels, { plan: { split: N } }); // per-call override wins
    expect(c2.plan).toEqual({ split: N, threshold: 0.95 });

    await edge.configure({ nextPlan: { split: 8, threshold: 0.95, codec: { scheme: 'fp32' } } });
    const fixed = client({ followEdgePlan: false, plan: { split: 4, threshold: 1 } });
    await fixed.classify(samples[11]!.pixels);
    expect((await fixed.classify(samples[11]!.pixels)).plan).toMatchObject({ split: 4, threshold: 1 });
  });
});
