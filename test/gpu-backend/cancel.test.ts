// Cancellation as the edge uses it: a cancel reaches a running request between two blocks (proved with the
// request record: blocks run at the cancel vs. in the end), drops a queued request without computing, wins over an
// offload that arrives after it, and is idempotent. One worker, one thread, real model; batching off, so requests
// queue behind the one running (cancels inside a batch: batching.test.ts). Where a cancel must find a job running or
// queued, the backend's hold gate (--test-hooks) parks it first: no test here depends on timing.

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
      testConfig({
        workers: 1,
        threads: 1,
        testHooks: true,
        batching: { maxBatch: 1, maxDelayMs: null, perModel: {} },
      }),
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

  /** Resolves once the hold gate holds `id` (polls the pool's state: an event, not a delay). */
  const held = async (id: string) => {
    while (!backend.pool.holdState().held.includes(id)) await new Promise((r) => setTimeout(r, 5));
  };

  it('stops a running request between two blocks, where the cancel finds it', async () => {
    // The hold gate (tests only) parks the job after 5 blocks, so the cancel provably arrives mid-run.
    backend.pool.setHold(5);
    try {
      const id = newRequestId('run');
      const pending = infer(id);
      await held(id);
      expect((await record(id))!.status).toBe('running');
      expect(await cancel(id)).toEqual({ requestId: id, state: 'cancelled-running', blocksRun: 5 });
      const result: ResultMessage = await pending;
      expect(result).toMatchObject({
        requestId: id,
        status: 'cancelled',
        exit: null,
        label: null,
        confidence: null,
        blocksRun: 5, // the worker checks the flag before its next block or exit: no block after the cancel
      });
      expect(await record(id)).toMatchObject({
        status: 'cancelled',
        cancelled: true,
        cancelState: 'cancelled-running',
        blocksRun: 5,
        blocksRunAtCancel: 5,
      });
      // Idempotent: a repeated cancel reports the same state and the final block count.
      expect(await cancel(id)).toEqual({ requestId: id, state: 'cancelled-running', blocksRun: 5 });
    } finally {
      backend.pool.setHold(null);
    }
  });

  it('drops a queued request without computing it', async () => {
    // One worker, held before its first block: whatever comes next waits in the queue.
    backend.pool.setHold(0);
    const filler = newRequestId('fill');
    const running = infer(filler);
    try {
      await held(filler);
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
    } finally {
      backend.pool.setHold(null);
    }
    expect((await running).status).toBe('done');
  });

  it('answers a late offload as cancelled when its cancel came first', async () => {
    const id = newRequestId('early');
    expect(await cancel(id)).toEqual({ requestId: id, state: 'cancelled-before-arrival' });
    expect(await cancel(id)).toEqual({ requestId: id, state: 'cancelled-before-arrival' });
    const result = await infer(id);
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
