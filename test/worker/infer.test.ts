// POST /v1/infer through real workerd: round trip to a backend, the plan on the answer, the lifecycle record,
// single-use request ids, and every backend failure mode turning into a msgpack `failed` result (502/504).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFixtureAssets, FIXTURE_MODEL_ID } from '../support/fixture-model.js';
import { deadBackendUrl, startFakeBackend, type FakeBackend } from '../support/fake-backend.js';
import { startWorker, type RunningWorker } from '../support/start-worker.js';
import { DEFAULT_SLA } from '../../core/sla.js';
import { offload, postOffload, readResult } from '../support/wire-helpers.js';

const TOKEN = 'test-token-123';
let backend: FakeBackend;
let worker: RunningWorker;

beforeAll(async () => {
  backend = await startFakeBackend();
  worker = await startWorker({
    backendUrl: backend.url,
    backendToken: TOKEN,
    assetsDir: writeFixtureAssets().dir,
    vars: { MODELS: FIXTURE_MODEL_ID, BACKEND_TIMEOUT_MS: '1500' },
  });
  console.log(`worker started in ${worker.startupMs.toFixed(0)} ms at ${worker.url}`);
});

afterAll(async () => {
  await worker?.stop();
  await backend?.close();
});

describe('POST /v1/infer', () => {
  it('forwards the offload to the backend with the token and returns its small protocol-3 result', async () => {
    backend.mode = 'ok';
    backend.delayMs = 0;
    const msg = offload({ split: 1, threshold: 0.7 });
    const res = await postOffload(worker.url, msg);
    expect(res.status).toBe(200);
    const result = await readResult(res);
    expect(result).toMatchObject({ status: 'done', exit: 1, label: 2, confidence: 0.9 });
    expect(result.blocksRun).toBe(1);
    // No replan asked (no SLA): no plan; no request id (the exchange pairs them); the load only on debug.
    expect(result).not.toHaveProperty('plan');
    expect(result).not.toHaveProperty('requestId');
    expect(result).not.toHaveProperty('load');
    // Where the time went, for browsers' developer tools.
    expect(res.headers.get('server-timing')).toMatch(
      /edge;dur=[\d.]+, backend;dur=[\d.]+, claim;dur=[\d.]+, queue;dur=0\.5, compute;dur=3\.5/,
    );

    const seen = backend.infers.find((i) => i.offload.requestId === msg.requestId)!;
    expect(seen.authorization).toBe(`Bearer ${TOKEN}`);
    expect(seen.offload.tensor.shape).toEqual([1, 2, 4, 4]);
    expect(seen.offload.context).toEqual({ deviceMs: 12 });
  });

  it('records the lifecycle: pending → running → done with the result fields', async () => {
    const msg = offload({ split: 0, threshold: 0.5 });
    await readResult(await postOffload(worker.url, msg));
    const res = await fetch(`${worker.url}/v1/requests/${msg.requestId}`, { headers: worker.auth });
    expect(res.status).toBe(200);
    const rec = (await res.json()) as Record<string, any>;
    expect(rec).toMatchObject({
      requestId: msg.requestId,
      status: 'done',
      modelId: FIXTURE_MODEL_ID,
      split: 0,
      threshold: 0.5,
      cancelledBeforeOffload: false,
      result: { exit: 1, label: 2, confidence: 0.9, serverMs: 3.5, queueMs: 0.5, blocksRun: 2 },
      error: null,
    });
    expect(Object.keys(rec.timestamps).sort()).toEqual(['done', 'pending', 'running']);
    expect(rec.timestamps.done).toBeGreaterThanOrEqual(rec.timestamps.running);
  });

  it('shows `running` while the backend works', async () => {
    backend.delayMs = 400;
    const msg = offload();
    const pending = postOffload(worker.url, msg);
    await backend.nextInfer(msg.requestId);
    const rec = (await (
      await fetch(`${worker.url}/v1/requests/${msg.requestId}`, { headers: worker.auth })
    ).json()) as {
      status: string;
    };
    expect(rec.status).toBe('running');
    expect((await readResult(await pending)).status).toBe('done');
    backend.delayMs = 0;
  });

  it('refuses a second offload for the same request id (409)', async () => {
    const msg = offload();
    expect((await postOffload(worker.url, msg)).status).toBe(200);
    const again = await postOffload(worker.url, msg);
    expect(again.status).toBe(409);
    expect(((await again.json()) as { error: string }).error).toMatch(
      /was already used; request ids are single-use/,
    );
  });

  it('turns a backend failure into a msgpack failed result (502)', async () => {
    backend.mode = 'fail';
    const msg = offload();
    const res = await postOffload(worker.url, msg);
    expect(res.status).toBe(502);
    const result = await readResult(res);
    expect(result).toMatchObject({
      status: 'failed',
      exit: null,
      label: null,
      error: 'onnxruntime exploded',
    });
    backend.mode = 'ok';
  });

  it('plans again when the offload carries the SLA: the plan without its reasons, and with them on debug', async () => {
    backend.mode = 'ok';
    backend.delayMs = 0;
    const replan = { sla: DEFAULT_SLA, context: { rttMs: 20 } };
    // The fixture has no profile: the edge answers a device-only plan, which differs from the one the offload ran.
    const plain = await readResult(await postOffload(worker.url, offload(replan)));
    expect(plain.plan).toMatchObject({ split: 2, threshold: 1, codec: { scheme: 'fp32' } });
    expect(plain.plan).not.toHaveProperty('reason');
    const debug = await readResult(await postOffload(worker.url, offload({ ...replan, debug: true })));
    expect(debug.plan).toMatchObject({ split: 2, reason: expect.stringMatching(/no scheduling possible/) });
  });

  it('turns an unreadable backend answer into failed (502)', async () => {
    backend.mode = 'garbage';
    const res = await postOffload(worker.url, offload());
    expect(res.status).toBe(502);
    expect((await readResult(res)).error).toMatch(/backend answered HTTP 200 \(text\/plain\)/);
    backend.mode = 'ok';
  });

  it('times out a slow backend with failed (504), aborts the call and cancels the work on the backend', async () => {
    backend.delayMs = 60_000; // the backend would compute for a minute: only the edge's cancel stops it
    const msg = offload();
    const res = await postOffload(worker.url, msg);
    expect(res.status).toBe(504);
    const result = await readResult(res);
    expect(result.status).toBe('failed');
    expect(result.error).toMatch(/did not answer within 1500 ms/);
    await expect.poll(() => backend.aborted).toContain(msg.requestId);
    await expect
      .poll(() => backend.cancels, { timeout: 10_000 })
      .toContainEqual({ requestId: msg.requestId, authorization: `Bearer ${TOKEN}` });
    const record = async () =>
      (await (
        await fetch(`${worker.url}/v1/requests/${msg.requestId}`, { headers: worker.auth })
      ).json()) as Record<string, any>;
    await expect
      .poll(async () => (await record()).backendCancel, { timeout: 10_000 })
      .toMatchObject({ ok: true, httpStatus: 200, body: { requestId: msg.requestId } });
    expect(await record()).toMatchObject({ status: 'failed', error: expect.stringMatching(/1500 ms/) });
    backend.delayMs = 0;
  });
});

describe('POST /v1/infer with the backend down', () => {
  let down: RunningWorker;
  beforeAll(async () => {
    down = await startWorker({
      backendUrl: await deadBackendUrl(),
      assetsDir: writeFixtureAssets().dir,
      vars: { MODELS: FIXTURE_MODEL_ID },
    });
  });
  afterAll(async () => down?.stop());

  it('answers failed (502) so the client finishes locally, and keeps serving', async () => {
    const msg = offload();
    const res = await postOffload(down.url, msg);
    expect(res.status).toBe(502);
    const result = await readResult(res);
    expect(result).toMatchObject({ status: 'failed' });
    expect(result.error).toMatch(/backend unreachable/);
    const health = (await (await fetch(`${down.url}/healthz`)).json()) as Record<string, any>;
    expect(health).toMatchObject({ status: 'degraded', worker: { ok: true }, backend: { reachable: false } });
  });
});
