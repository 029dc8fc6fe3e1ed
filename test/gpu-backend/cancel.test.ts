// Cancellation as the edge uses it: a cancel reaches a running request between two blocks (proved with the
// request record: blocks run at the cancel vs. in the end), drops a queued request without computing, wins over an
// offload that arrives after it, and is idempotent. One worker, one thread, real model, no artificial slowdown;
// batching off, so requests queue behind the one running (cancels inside a batch: batching.test.ts).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResultMessage } from '../../core/wire.js';
import { createBackend, type Backend } from '../../gpu-backend/server.js';
import { silentLogger } from '../../gpu-backend/log.js';
import type { RequestRecord } from '../../gpu-backend/request-records.js';
import type { CancelResponse } from '../../gpu-backend/app.js';
import { inferInit, newRequestId, offloadBody, readResult, testConfig, testImages } from './helpers.js';

describe('gpu-backend cancellation', () => {
  let backend: Backend;
  let image: Float32Array;
  const BLOCKS = 28;

  beforeAll(async () => {
    backend = await createBackend(
      testConfig({ workers: 1, threads: 1, batching: { maxBatch: 1, maxDelayMs: null, perModel: {} } }),
      silentLogger,
    );
    image = testImages(1)[0]!;
  });
  afterAll(async () => {
    await backend?.close(0);
  });

  const infer = async (requestId: string, threshold = 1) =>
    readResult(
      await backend.app.request(
        '/infer',
        inferInit(
          offloadBody({ requestId, split: 0, threshold, values: image.slice(), shape: [1, 1, 32, 32] }),
        ),
      ),
    );
  const cancel = async (requestId: string) =>
    (await (await backend.app.request(`/cancel/${requestId}`, { method: 'POST' })).json()) as CancelResponse;
  const record = async (requestId: string) => {
    const r = await backend.app.request(`/requests/${requestId}`);
    return r.status === 200 ? ((await r.json()) as RequestRecord) : null;
  };

  it('stops a running request within one block', async () => {
    // The whole model takes a few ms here, so catch each run mid-way by polling its live progress; retry a few
    // runs in case one finishes between two polls.
    let midRun = 0;
    for (let attempt = 0; attempt < 30 && midRun < 3; attempt++) {
      const id = newRequestId('run');
      const pending = infer(id);
      let answer: CancelResponse | null = null;
      for (let i = 0; i < 5000; i++) {
        const rec = await record(id);
        if (rec && rec.status !== 'queued' && rec.status !== 'running') break; // finished before we got there
        if (rec?.status === 'running' && rec.blocksRun >= 1) {
          answer = await cancel(id);
          break;
        }
      }
      const result: ResultMessage = await pending;
      const rec = (await record(id))!;
      if (answer?.state !== 'cancelled-running') {
        expect(result.status).toBe('done');
        continue;
      }
      expect(answer.blocksRun).toBeGreaterThanOrEqual(1);
      expect(result).toMatchObject({
        requestId: id,
        status: 'cancelled',
        exit: null,
        label: null,
        confidence: null,
      });
      // The worker finishes the block it is in, then sees the flag before the next block or exit.
      expect(result.blocksRun - rec.blocksRunAtCancel!).toBeLessThanOrEqual(1);
      // Caught with at least two blocks to go, the work provably stopped early.
      if (rec.blocksRunAtCancel! < BLOCKS - 1) {
        expect(result.blocksRun).toBeLessThan(BLOCKS);
        midRun++;
      }
      expect(rec).toMatchObject({
        status: 'cancelled',
        cancelled: true,
        cancelState: 'cancelled-running',
        blocksRun: result.blocksRun,
      });
      // Idempotent: a repeated cancel reports the same state and the final block count.
      expect(await cancel(id)).toEqual({
        requestId: id,
        state: 'cancelled-running',
        blocksRun: result.blocksRun,
      });
    }
    expect(midRun).toBeGreaterThanOrEqual(1);
  });

  it('drops a queued request without computing it', async () => {
    const fillers = Array.from({ length: 6 }, () => newRequestId('fill'));
    const running = fillers.map((id) => infer(id));
    const id = newRequestId('queued');
    const pending = infer(id);
    let rec: RequestRecord | null = null;
    while (!(rec = await record(id))) await new Promise((r) => setImmediate(r));
    expect(rec.status).toBe('queued');
    expect(await cancel(id)).toEqual({ requestId: id, state: 'cancelled-queued', blocksRun: 0 });
    const result = await pending;
    expect(result).toMatchObject({ status: 'cancelled', blocksRun: 0, serverMs: 0 });
    expect(result.queueMs).toBeGreaterThan(0);
    expect(await cancel(id)).toEqual({ requestId: id, state: 'cancelled-queued', blocksRun: 0 });
    for (const r of await Promise.all(running)) expect(r.status).toBe('done');
  });

  it('answers a late offload as cancelled when its cancel came first', async () => {
    const id = newRequestId('early');
    expect(await cancel(id)).toEqual({ requestId: id, state: 'cancelled-before-arrival' });
    expect(await cancel(id)).toEqual({ requestId: id, state: 'cancelled-before-arrival' });
    const t0 = performance.now();
    const result = await infer(id);
    expect(performance.now() - t0).toBeLessThan(50);
    expect(result).toMatchObject({
      requestId: id,
      status: 'cancelled',
      blocksRun: 0,
      serverMs: 0,
      queueMs: 0,
    });
    expect(await record(id)).toMatchObject({
      status: 'cancelled',
      cancelState: 'cancelled-before-arrival',
      blocksRun: 0,
    });
    // Offloaded again (a retry): still cancelled, still not computed.
    expect(await infer(id)).toMatchObject({ status: 'cancelled', blocksRun: 0 });
  });

  it('reports already-finished for a request that completed', async () => {
    const id = newRequestId('done');
    const result = await infer(id);
    expect(result.status).toBe('done');
    const expected = { requestId: id, state: 'already-finished', blocksRun: result.blocksRun };
    expect(await cancel(id)).toEqual(expected);
    expect(await cancel(id)).toEqual(expected);
    expect(await record(id)).toMatchObject({ status: 'done', cancelled: false });
  });

  it('rejects malformed request ids', async () => {
    const r = await backend.app.request('/cancel/bad!id', { method: 'POST' });
    expect(r.status).toBe(400);
    expect(((await r.json()) as { error: string }).error).toMatch(/request id/);
  });
});
