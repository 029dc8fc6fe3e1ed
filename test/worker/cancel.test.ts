// DELETE /v1/requests/:id through real workerd: a cancel during an in-flight offload aborts the backend call and
// tells the backend; a cancel that arrives before its offload wins (and reaches the backend first); repeated cancels return the same final state.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURE_MODEL_ID, writeFixtureAssets } from '../support/fixture-model.js';
import { startFakeBackend, type FakeBackend } from '../support/fake-backend.js';
import { startWorker, type RunningWorker } from '../support/start-worker.js';
import { newRequestId, offload, postOffload, readResult } from '../support/wire-helpers.js';

const TOKEN = 'cancel-token';
let backend: FakeBackend;
let worker: RunningWorker;

beforeAll(async () => {
  backend = await startFakeBackend();
  worker = await startWorker({
    backendUrl: backend.url,
    backendToken: TOKEN,
    assetsDir: writeFixtureAssets().dir,
    vars: { MODELS: FIXTURE_MODEL_ID },
  });
});

afterAll(async () => {
  await worker?.stop();
  await backend?.close();
});

const cancel = (id: string) =>
  fetch(`${worker.url}/v1/requests/${id}`, { method: 'DELETE', headers: worker.auth });
const getRecord = async (id: string) =>
  (await (await fetch(`${worker.url}/v1/requests/${id}`, { headers: worker.auth })).json()) as Record<
    string,
    any
  >;

describe('DELETE /v1/requests/:id', () => {
  it('during an in-flight offload: answers the offload `cancelled`, aborts the backend fetch, calls backend cancel', async () => {
    backend.delayMs = 30_000;
    const msg = offload();
    const inflight = postOffload(worker.url, msg);
    await backend.nextInfer(msg.requestId);

    const res = await cancel(msg.requestId);
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, any>;
    expect(body).toMatchObject({
      requestId: msg.requestId,
      status: 'cancelled',
      cancelledBeforeOffload: false,
      backend: { ok: true, httpStatus: 200, body: { requestId: msg.requestId } },
    });

    const offloadRes = await inflight;
    expect(offloadRes.status).toBe(200);
    const result = await readResult(offloadRes);
    expect(result).toMatchObject({ status: 'cancelled', exit: null, label: null });

    expect(backend.cancels).toContainEqual({ requestId: msg.requestId, authorization: `Bearer ${TOKEN}` });
    await expect.poll(() => backend.aborted).toContain(msg.requestId);

    const rec = await getRecord(msg.requestId);
    expect(rec.status).toBe('cancelled');
    expect(Object.keys(rec.timestamps).sort()).toEqual(['cancelled', 'pending', 'running']);
    backend.delayMs = 0;
  });

  it('before the offload: the cancel wins, and the backend is told first so it refuses the offload', async () => {
    const msg = offload();
    const res = await cancel(msg.requestId);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      requestId: msg.requestId,
      status: 'cancelled',
      cancelledBeforeOffload: true,
      backend: { ok: true, httpStatus: 200, body: { requestId: msg.requestId } },
    });
    // The DELETE answered only after the backend had the cancel: whatever the offload does next, the backend
    // remembers the id as cancelled (the real backend answers such an offload `cancelled` without computing:
    // test/gpu-backend/cancel.test.ts).
    expect(backend.cancels.map((c) => c.requestId)).toEqual(expect.arrayContaining([msg.requestId]));

    const late = await postOffload(worker.url, msg);
    expect(late.status).toBe(200);
    expect(await readResult(late)).toMatchObject({ status: 'cancelled' });
    expect(backend.cancels.filter((c) => c.requestId === msg.requestId)).toHaveLength(1);

    const rec = await getRecord(msg.requestId);
    expect(rec).toMatchObject({
      status: 'cancelled',
      cancelledBeforeOffload: true,
      modelId: FIXTURE_MODEL_ID,
    });
  });

  it('is idempotent: repeated cancels return 200 with the same final state and call the backend once', async () => {
    backend.delayMs = 30_000;
    const msg = offload();
    const inflight = postOffload(worker.url, msg);
    await backend.nextInfer(msg.requestId);
    const answers = await Promise.all([cancel(msg.requestId), cancel(msg.requestId)]);
    const again = await cancel(msg.requestId);
    const bodies = await Promise.all(
      [...answers, again].map(async (r) => [r.status, await r.json()] as const),
    );
    for (const [status, body] of bodies) {
      expect(status).toBe(200);
      expect(body).toEqual(bodies[0]![1]);
    }
    expect(bodies[0]![1]).toMatchObject({
      status: 'cancelled',
      cancelledBeforeOffload: false,
      backend: { ok: true },
    });
    expect(backend.cancels.filter((c) => c.requestId === msg.requestId)).toHaveLength(1);
    expect((await readResult(await inflight)).status).toBe('cancelled');
    backend.delayMs = 0;

    const onlyCancelled = newRequestId();
    const first = await (await cancel(onlyCancelled)).json();
    expect(await (await cancel(onlyCancelled)).json()).toEqual(first);
  });

  it('after the request finished: reports the final status unchanged', async () => {
    const msg = offload();
    expect((await readResult(await postOffload(worker.url, msg))).status).toBe('done');
    const res = await cancel(msg.requestId);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      status: 'done',
      backend: { skipped: expect.stringMatching(/done/) },
    });
    expect((await getRecord(msg.requestId)).status).toBe('done');
  });

  it('rejects malformed request ids with 400', async () => {
    const res = await cancel('bad id!');
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(/request id must be/);
  });
});
