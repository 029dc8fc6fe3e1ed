// Real messages against the OpenAPI document the edge serves, in real workerd (the deployed bundle) with a fake
// backend: msgpack offloads and results (decoded), plan answers, request records and cancels, POST /v1/classify
// answers, and the error bodies of each kind of mistake — each must validate against the document's schema for its
// route, status and media type. (Route coverage and the typed client: ./unit/openapi-routes.test.ts.)

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encode as encodePng } from 'fast-png';
import { unpackMsgpack } from '../../core/msgpack.js';
import { WIRE_CONTENT_TYPE, encodeMessage } from '../../core/wire.js';
import { FIXTURE_MODEL_ID, writeFixtureAssets } from '../support/fixture-model.js';
import { startFakeBackend, type FakeBackend } from '../support/fake-backend.js';
import { openApiValidator, type OpenApiValidator } from '../support/openapi-validator.js';
import { startWorker, type RunningWorker } from '../support/start-worker.js';
import { offload, postOffload } from '../support/wire-helpers.js';

let backend: FakeBackend;
let worker: RunningWorker;
let doc: unknown;
let validator: OpenApiValidator;

beforeAll(async () => {
  backend = await startFakeBackend();
  const assets = writeFixtureAssets();
  worker = await startWorker({
    backendUrl: backend.url,
    assetsDir: assets.dir,
    vars: { MODELS: FIXTURE_MODEL_ID },
  });
  doc = await (await fetch(`${worker.url}/v1/openapi.json`)).json();
  validator = openApiValidator(doc);
});

afterAll(async () => {
  await worker?.stop();
  await backend?.close();
});

const call = (path: string, init: RequestInit = {}) =>
  fetch(`${worker.url}${path}`, { ...init, headers: { ...worker.auth, ...(init.headers ?? {}) } });

/** Expects `res` to be a documented answer of `method path` and returns its body (msgpack decoded). */
async function documented(res: Response, method: string, path: string): Promise<unknown> {
  const type = (res.headers.get('content-type') ?? '').split(';')[0]!;
  const body =
    type === WIRE_CONTENT_TYPE ? unpackMsgpack(new Uint8Array(await res.arrayBuffer())) : await res.json();
  expect(validator.answer(method, path, res.status, type, body)).toEqual([]);
  return body;
}

describe('real messages validate against the served OpenAPI document', () => {
  it('an offload as clients send it, and its msgpack result', async () => {
    const msg = offload();
    expect(
      validator.request('post', '/v1/infer', WIRE_CONTENT_TYPE, unpackMsgpack(encodeMessage(msg))),
    ).toEqual([]);
    const res = await postOffload(worker.url, msg);
    expect(res.status).toBe(200);
    const result = (await documented(res, 'post', '/v1/infer')) as { status: string; requestId: string };
    expect(result.status).toBe('done');
    // The check has teeth: a wrong field type, a missing field or an unknown version fails it.
    for (const broken of [
      { ...result, exit: 'one' },
      { ...result, serverMs: undefined },
      { ...result, v: 1 },
    ])
      expect(validator.answer('post', '/v1/infer', 200, WIRE_CONTENT_TYPE, broken)).not.toEqual([]);

    const record = await call(`/v1/requests/${msg.requestId}`);
    expect(((await documented(record, 'get', '/v1/requests/{id}')) as { status: string }).status).toBe(
      'done',
    );
    const cancel = await call(`/v1/requests/${msg.requestId}`, { method: 'DELETE' });
    await documented(cancel, 'delete', '/v1/requests/{id}');
  });

  it('a failed backend answer (502) and a cancel that came first', async () => {
    backend.mode = 'fail';
    try {
      await documented(await postOffload(worker.url, offload()), 'post', '/v1/infer');
    } finally {
      backend.mode = 'ok';
    }
    const early = offload();
    const cancel = await call(`/v1/requests/${early.requestId}`, { method: 'DELETE' });
    expect(((await documented(cancel, 'delete', '/v1/requests/{id}')) as { status: string }).status).toBe(
      'cancelled',
    );
    const res = await postOffload(worker.url, early);
    expect(((await documented(res, 'post', '/v1/infer')) as { status: string }).status).toBe('cancelled');
  });

  it('plan, catalogue and health answers', async () => {
    const plan = await call('/v1/plan', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ modelId: FIXTURE_MODEL_ID, sla: { priority: ['latency'] } }),
    });
    expect(plan.status).toBe(200);
    await documented(plan, 'post', '/v1/plan');
    await documented(await call('/v1/models'), 'get', '/v1/models');
    await documented(
      await call(`/v1/models/${FIXTURE_MODEL_ID}/manifest`),
      'get',
      '/v1/models/{id}/manifest',
    );
    const health = await call('/healthz');
    expect(((await documented(health, 'get', '/healthz')) as { status: string }).status).toBe('ok');
  });

  it('the error bodies of each kind of mistake', async () => {
    const cases: [string, string, RequestInit, number][] = [
      ['post', '/v1/infer', { method: 'POST', body: 'x', headers: { 'content-type': 'text/plain' } }, 415],
      [
        'post',
        '/v1/infer',
        { method: 'POST', body: 'x', headers: { 'content-type': WIRE_CONTENT_TYPE } },
        400,
      ],
      ['post', '/v1/infer', { method: 'POST', headers: { authorization: 'Bearer nope' } }, 401],
      [
        'post',
        '/v1/plan',
        { method: 'POST', body: '{', headers: { 'content-type': 'application/json' } },
        400,
      ],
      ['get', '/v1/requests/{id}', {}, 400],
      ['get', '/v1/models/{id}/manifest', {}, 404],
      [
        'post',
        '/v1/classify',
        { method: 'POST', body: 'hello', headers: { 'content-type': 'image/png' } },
        400,
      ],
    ];
    for (const [method, path, init, status] of cases) {
      const concrete = path.replace('{id}', path.includes('requests') ? 'bad!' : 'no-such-model');
      const res = await call(concrete, init);
      expect(res.status, `${method} ${concrete}`).toBe(status);
      await documented(res, method, path);
    }
  });

  it('POST /v1/classify refuses a model without a preprocessing recipe, as documented', async () => {
    const png = encodePng({ width: 4, height: 4, data: new Uint8Array(16), channels: 1, depth: 8 });
    const res = await call(`/v1/classify?model=${FIXTURE_MODEL_ID}`, {
      method: 'POST',
      headers: { 'content-type': 'image/png' },
      body: png as Uint8Array<ArrayBuffer>,
    });
    expect(res.status).toBe(400);
    const { error } = (await documented(res, 'post', '/v1/classify')) as { error: string };
    expect(error).toMatch(/no preprocessing recipe/);
  });
});
