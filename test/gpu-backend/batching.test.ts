// Dynamic batching through the real backend (real worker thread, real model, real Fashion-MNIST images): a batch
// answers every request exactly as the backend does without batching and as the original single model does; a
// request leaves its batch at its own exit (answered while the others go on) or at its cancel; a request waiting for
// its batch to fill can be cancelled; an idle worker waits at most the batch delay. Batches are made deterministic by
// the limits (a batch of N with a long delay runs exactly when N requests are queued), never by timing.

import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BatchingConfig } from '../../gpu-backend/batching.js';
import type { CancelResponse } from '../../gpu-backend/app.js';
import { silentLogger } from '../../gpu-backend/log.js';
import type { RequestRecord } from '../../gpu-backend/request-records.js';
import { createBackend, type Backend } from '../../gpu-backend/server.js';
import {
  DeviceSide,
  MODEL_ID,
  SOURCE_MODEL,
  expectedAnswer,
  inferInit,
  newRequestId,
  offloadBody,
  readResult,
  sourceModelExits,
  testConfig,
  testImages,
} from './helpers.js';

const batching = (maxBatch: number, maxDelayMs: number): BatchingConfig => ({
  maxBatch,
  maxDelayMs,
  perModel: {},
});

describe('gpu-backend dynamic batching', () => {
  let batched: Backend; // batches of exactly 8
  let unbatched: Backend;
  let filling: Backend; // batches of 4 that never time out
  let delayed: Backend; // per-model setting: up to 8, 300 ms delay
  let device: DeviceSide;
  let source: ort.InferenceSession;
  let image: Float32Array;

  beforeAll(async () => {
    [batched, unbatched, filling, delayed, device, source] = await Promise.all([
      createBackend(testConfig({ batching: batching(8, 60_000) }), silentLogger),
      createBackend(testConfig({ batching: batching(1, 0) }), silentLogger),
      createBackend(testConfig({ batching: batching(4, 60_000) }), silentLogger),
      createBackend(
        testConfig({
          batching: {
            maxBatch: null,
            maxDelayMs: null,
            perModel: { [MODEL_ID]: { maxBatch: 8, maxDelayMs: 300 } },
          },
        }),
        silentLogger,
      ),
      DeviceSide.load(),
      ort.InferenceSession.create(SOURCE_MODEL, { intraOpNumThreads: 1, executionProviders: ['cpu'] }),
    ]);
    image = testImages(1)[0]!;
  });
  afterAll(async () => {
    await Promise.all([batched, unbatched, filling, delayed].map((b) => b?.close(0)));
  });

  const send = async (
    b: Backend,
    o: { requestId?: string; split?: number; threshold?: number; values?: Float32Array; shape?: number[] },
  ) =>
    readResult(
      await b.app.request(
        '/infer',
        inferInit(
          offloadBody({
            requestId: o.requestId ?? newRequestId('batch'),
            split: o.split ?? 0,
            threshold: o.threshold ?? 1,
            values: (o.values ?? image).slice(),
            shape: o.shape ?? [1, 1, 32, 32],
          }),
        ),
      ),
    );
  const record = async (b: Backend, id: string) => {
    const r = await b.app.request(`/requests/${id}`);
    return r.status === 200 ? ((await r.json()) as RequestRecord) : null;
  };
  const cancel = async (b: Backend, id: string) =>
    (await (await b.app.request(`/cancel/${id}`, { method: 'POST' })).json()) as CancelResponse;

  it('answers a batch of mixed splits and thresholds exactly as without batching and as the single model', async () => {
    const m = device.manifest;
    const images = testImages(16, m);
    const plans = [
      [0, 0.5],
      [0, 1],
      [5, 0.8],
      [13, 0.95],
      [20, 0.6],
      [27, 1],
      [1, 0.9],
      [0, 0.99],
    ] as const;
    for (let group = 0; group < 2; group++) {
      const reqs = await Promise.all(
        plans.map(async ([split, threshold], k) => {
          const img = images[group * plans.length + k]!;
          const act = await device.activation(img, split);
          const want = expectedAnswer(m, await sourceModelExits(source, img), split, threshold);
          return { requestId: newRequestId('mix'), split, threshold, ...act, want };
        }),
      );
      const got = await Promise.all(reqs.map((r) => send(batched, r)));
      for (let k = 0; k < reqs.length; k++) {
        const r = reqs[k]!;
        const alone = await send(unbatched, { ...r, requestId: newRequestId('solo') });
        const what = `group ${group} split ${r.split} thr ${r.threshold}`;
        expect(got[k], what).toMatchObject({
          status: 'done',
          exit: alone.exit,
          label: alone.label,
          blocksRun: alone.blocksRun,
        });
        expect(Math.abs(got[k]!.confidence! - alone.confidence!), what).toBeLessThanOrEqual(1e-6);
        expect(got[k], what).toMatchObject({
          exit: r.want.exit,
          label: r.want.label,
          blocksRun: r.want.blocksRun,
        });
        expect(got[k]!.confidence!).toBeCloseTo(r.want.confidence, 4);
        expect((await record(batched, r.requestId))!.batchSize).toBe(8);
        expect((await record(unbatched, alone.requestId!))!.batchSize).toBe(1);
      }
    }
  });

  it('answers a request at its own exit while the rest of its batch goes on', async () => {
    const pool = batched.pool;
    const job = (i: number, threshold: number) =>
      pool.submit({
        requestId: newRequestId(`early${i}`),
        modelId: MODEL_ID,
        split: 0,
        threshold,
        values: image.slice(),
        shape: [1, 1, 32, 32],
      });
    // Threshold 0 leaves at the first exit (after block 4); the other seven run all 28 blocks.
    const early = job(0, 0).then((o) => ({ o, runningThen: pool.stats().running }));
    const rest = Array.from({ length: 7 }, (_, i) => job(i + 1, 1));
    const { o, runningThen } = await early;
    expect(o).toMatchObject({ status: 'done', exit: 0, blocksRun: 5, batchSize: 8 });
    expect(runningThen).toBe(7);
    for (const r of await Promise.all(rest))
      expect(r).toMatchObject({ status: 'done', exit: 6, blocksRun: 28 });
  });

  it('takes a cancelled request out of its batch between blocks; the others finish', async () => {
    let caught = 0;
    for (let attempt = 0; attempt < 20 && caught < 2; attempt++) {
      const ids = Array.from({ length: 8 }, () => newRequestId('bcancel'));
      const pending = ids.map((requestId) => send(batched, { requestId }));
      const target = ids[3]!;
      let answer: CancelResponse | null = null;
      for (let i = 0; i < 20_000; i++) {
        const done = batched.pool.progress(target);
        if (done !== null && done >= 2) {
          answer = await cancel(batched, target);
          break;
        }
        if (done === null && (await record(batched, target))?.status === 'done') break;
        await new Promise((r) => setImmediate(r));
      }
      const results = await Promise.all(pending);
      const rec = (await record(batched, target))!;
      results.forEach((r, k) => {
        if (k !== 3) expect(r).toMatchObject({ status: 'done', exit: 6, blocksRun: 28 });
      });
      if (answer?.state !== 'cancelled-running') continue;
      caught++;
      expect(results[3]).toMatchObject({ status: 'cancelled', exit: null, label: null });
      expect(results[3]!.blocksRun - rec.blocksRunAtCancel!).toBeLessThanOrEqual(1);
      expect(rec).toMatchObject({ status: 'cancelled', cancelState: 'cancelled-running', batchSize: 8 });
      if (rec.blocksRunAtCancel! < 27) expect(results[3]!.blocksRun).toBeLessThan(28);
    }
    expect(caught).toBeGreaterThanOrEqual(1);
  });

  it('drops a request that waits for its batch to fill, then fills the next batch', async () => {
    const id = newRequestId('fill');
    const pending = send(filling, { requestId: id });
    let rec: RequestRecord | null = null;
    while (!(rec = await record(filling, id))) await new Promise((r) => setImmediate(r));
    expect(rec.status).toBe('queued');
    expect(await cancel(filling, id)).toEqual({ requestId: id, state: 'cancelled-queued', blocksRun: 0 });
    expect(await pending).toMatchObject({ status: 'cancelled', blocksRun: 0, serverMs: 0 });
    const ids = Array.from({ length: 4 }, () => newRequestId('fill4'));
    const results = await Promise.all(ids.map((requestId) => send(filling, { requestId })));
    for (const [k, r] of results.entries()) {
      expect(r.status).toBe('done');
      expect((await record(filling, ids[k]!))!.batchSize).toBe(4);
    }
  });

  it('runs what is queued once the batch delay has passed (per-model setting)', async () => {
    expect(delayed.pool.limits(MODEL_ID)).toEqual({ maxBatch: 8, maxDelayMs: 300 });
    const ids = Array.from({ length: 3 }, () => newRequestId('delay'));
    const results = await Promise.all(ids.map((requestId) => send(delayed, { requestId })));
    const waited: number[] = [];
    for (const [k, r] of results.entries()) {
      expect(r.status).toBe('done');
      const rec = (await record(delayed, ids[k]!))!;
      expect(rec.batchSize).toBe(3);
      waited.push(rec.queueMs!);
    }
    // The first to arrive waited the whole delay (timers may fire a hair early against performance.now).
    expect(Math.max(...waited)).toBeGreaterThanOrEqual(290);
    const health = (await (await delayed.app.request('/health')).json()) as Record<string, unknown>;
    expect(health.batching).toEqual({ [MODEL_ID]: { maxBatch: 8, maxDelayMs: 300 } });
    const metrics = await (await delayed.app.request('/metrics')).text();
    expect(metrics).toMatch(/spinn_backend_request_batch_size_bucket\{le="4"\} 3/);
  });
});
