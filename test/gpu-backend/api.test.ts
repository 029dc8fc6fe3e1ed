// The backend's API edges: every malformed or unauthorised call gets a clear JSON error with the right status
// before any work is queued, and /health and /metrics report what runs (workers, queue, execution provider) in
// formats their consumers parse (JSON, Prometheus text); every request leaves one JSON access line.

import { Packr } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeTensor } from '../../core/tensor-codec.js';
import { PROTOCOL_VERSION, WIRE_CONTENT_TYPE, decodeOffload, encodeMessage } from '../../core/wire.js';
import { createBackend, type Backend } from '../../gpu-backend/server.js';
import { silentLogger } from '../../gpu-backend/log.js';
import { hostileCases } from '../support/hostile-bodies.js';
import { greyImage, imageToPixels, normalizePixels } from '../../core/preprocess.js';
import {
  inferInit,
  manifest,
  newRequestId,
  offloadBody,
  readResult,
  testConfig,
  testImages,
  testPixels,
} from './helpers.js';
import { captureLogger } from './capture-logger.js';
import { parsePrometheus } from './prometheus-text.js';

const TOKEN = 'test-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };
const packr = new Packr({ useRecords: false });

describe('gpu-backend API', () => {
  let backend: Backend;
  let image: Float32Array;
  const logged = captureLogger();

  beforeAll(async () => {
    backend = await createBackend(testConfig({ token: TOKEN, maxBodyBytes: 100 * 1024 }), logged.log);
    image = testImages(1)[0]!;
  });
  afterAll(async () => {
    await backend?.close(0);
  });

  const post = (body: Uint8Array, headers: Record<string, string> = auth) =>
    backend.app.request('/infer', inferInit(body, headers));
  const good = (over: Partial<Parameters<typeof offloadBody>[0]> = {}) =>
    offloadBody({
      requestId: newRequestId('api'),
      split: 0,
      threshold: 0.9,
      values: image.slice(),
      shape: [1, 1, 32, 32],
      ...over,
    });
  async function expectError(res: Response, status: number, pattern: RegExp) {
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    const body = (await res.json()) as { error: string };
    expect(body.error).toMatch(pattern);
  }

  it('answers a well-formed offload', async () => {
    expect((await readResult(await post(good()))).status).toBe('done');
  });

  it('decodes lossless and quantised offloads, answering like fp32 for the lossless one', async () => {
    const fp32 = await readResult(await post(good()));
    const lossless = await readResult(await post(good({ codec: { scheme: 'lossless' } })));
    expect(lossless).toMatchObject({ status: 'done', label: fp32.label, exit: fp32.exit });
    expect(lossless.confidence).toBe(fp32.confidence);
    for (const bits of [8, 6, 4] as const)
      expect((await readResult(await post(good({ codec: { scheme: 'quant', bits } })))).status).toBe('done');
  });

  it('takes the input as uint8 pixels (u8) at split 0, normalising it like the client, and nowhere else', async () => {
    const pixels = imageToPixels(greyImage(testPixels(1)[0]!, manifest().input), manifest().input);
    const values = Float32Array.from(pixels);
    const fp32 = await readResult(await post(good({ values: normalizePixels(pixels, manifest().input) })));
    const u8 = await readResult(await post(good({ values, codec: { scheme: 'u8' } })));
    expect(u8).toMatchObject({
      status: 'done',
      label: fp32.label,
      exit: fp32.exit,
      confidence: fp32.confidence,
    });
    const at3 = good({
      split: 3,
      values: new Float32Array(16 * 32 * 32),
      shape: [1, 16, 32, 32],
      codec: { scheme: 'u8' },
    });
    await expectError(
      await post(at3),
      400,
      /u8 tensors carry input pixels and are only accepted at split 0, not split 3/,
    );
  });

  it('requires the bearer token on every route', async () => {
    await expectError(await post(good(), {}), 401, /bearer token/);
    await expectError(await post(good(), { authorization: 'Bearer wrong' }), 401, /bearer token/);
    const r = await backend.app.request('/health');
    expect(r.status).toBe(401);
    expect(r.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect((await backend.app.request('/metrics')).status).toBe(401);
    expect((await backend.app.request('/cancel/abcdefgh1', { method: 'POST' })).status).toBe(401);
  });

  it('rejects bodies that are not a valid offload with 400', async () => {
    await expectError(await post(new TextEncoder().encode('{"json": true}')), 400, /not valid msgpack/);
    await expectError(await post(new Uint8Array([0x85, 0xa1])), 400, /not valid msgpack/);
    const v1 = packr.pack({ v: 1, kind: 'offload', requestId: newRequestId() });
    await expectError(await post(v1), 400, /unsupported protocol version 1.*speaks 3\b/);
    await expectError(
      await post(packr.pack({ v: PROTOCOL_VERSION, kind: 'offload' })),
      400,
      /invalid offload: .*requestId/,
    );
    await expectError(await post(good({ requestId: 'short' })), 400, /request id/);
  });

  it('rejects tensors that do not fit the split with 400', async () => {
    await expectError(
      await post(good({ values: new Float32Array(16 * 32 * 32), shape: [1, 16, 32, 32] })),
      400,
      /shape \[1,16,32,32\] does not match split 0 of resnet56-fmnist: expected \[1,1,32,32\]/,
    );
    await expectError(
      await post(good({ values: new Float32Array(2 * 1024), shape: [2, 1, 32, 32] })),
      400,
      /does not match/,
    );
    await expectError(
      await post(good({ split: 28, shape: [1, 64, 8, 8], values: new Float32Array(4096) })),
      400,
      /split 28 is not a server-side split point.*valid: 0, 1, .*, 27/,
    );
    // Declared shape and payload length disagree.
    const lying = encodeMessage({
      v: PROTOCOL_VERSION,
      requestId: newRequestId(),
      modelId: 'resnet56-fmnist',
      split: 0,
      threshold: 1,
      context: {},
      tensor: { ...encodeTensor(image, [1, 1, 32, 32], { scheme: 'fp32' }), data: new Uint8Array(100) },
    });
    await expectError(await post(lying), 400, /payload is 100 bytes/);
  });

  it('answers 404 for an unknown model, 413 for an oversized body, 415 for the wrong content type', async () => {
    await expectError(await post(good({ modelId: 'resnet-nope' })), 404, /unknown model "resnet-nope"/);
    const big = good({ split: 1, values: new Float32Array(32 * 32 * 32), shape: [1, 32, 32, 32] }); // 128 KiB
    await expectError(await post(big), 413, /exceeds 102400 bytes/);
    const r = await backend.app.request('/infer', {
      method: 'POST',
      body: good() as Uint8Array<ArrayBuffer>,
      headers: { ...auth, 'content-type': 'application/json' },
    });
    await expectError(r, 415, new RegExp(WIRE_CONTENT_TYPE.replace(/[+.]/g, '\\$&')));
    await expectError(await backend.app.request('/nope', { headers: auth }), 404, /no route/);
  });

  it('closes the connection after an error to a request with a body (a pooled socket is never left mid-body)', async () => {
    const big = good({ split: 1, values: new Float32Array(32 * 32 * 32), shape: [1, 32, 32, 32] });
    expect((await post(big)).headers.get('connection')).toBe('close');
    expect((await post(good(), {})).headers.get('connection')).toBe('close'); // 401 before the body is read
    expect((await post(good())).headers.get('connection')).toBeNull();
  });

  describe('hostile msgpack bodies (the same cases the worker test sends to workerd)', () => {
    // Built at collection time, so from a constant image rather than the one beforeAll loads.
    const valid = decodeOffload(
      offloadBody({
        requestId: newRequestId('hostile'),
        split: 0,
        threshold: 0.9,
        values: new Float32Array(1024).fill(-0.5),
        shape: [1, 1, 32, 32],
      }),
    );
    for (const c of hostileCases(valid, () => newRequestId('hostile'))) {
      it(`${c.name}: ${c.status}`, async () => {
        const res = await post(c.body);
        if (c.body.byteLength > 100 * 1024) await expectError(res, 413, /exceeds 102400 bytes/);
        else if (c.status === 200) expect((await readResult(res)).status).toBe('done');
        else await expectError(res, c.status, c.error!);
      });
    }
  });

  it('reports health with the execution provider in use', async () => {
    const r = await backend.app.request('/health', { headers: auth });
    expect(r.status).toBe(200);
    const h = (await r.json()) as Record<string, unknown>;
    expect(h).toMatchObject({
      status: 'ok',
      models: ['resnet56-fmnist'],
      requestedProvider: 'auto',
      workers: 1,
      workersReady: 1,
      busy: 0,
      queued: 0,
    });
    expect(['cpu', 'cuda']).toContain(h.provider);
    if (h.provider === 'cpu') expect(h.providerFallbackReason).toEqual(expect.any(String));
  });

  it('logs one JSON access line per request: request id, method, route, status, duration', async () => {
    const accessLines = () => logged.lines.filter((l) => l.msg === 'request');
    const before = accessLines().length;
    const requestId = newRequestId('logged');
    expect((await post(good({ requestId }))).status).toBe(200);
    expect((await post(good(), {})).status).toBe(401);
    const cancel = await backend.app.request(`/cancel/${requestId}`, { method: 'POST', headers: auth });
    expect(cancel.status).toBe(200);
    expect((await backend.app.request('/nope', { headers: auth })).status).toBe(404);
    expect((await backend.app.request('/health', { headers: auth })).status).toBe(200);

    const lines = accessLines().slice(before);
    expect(lines).toHaveLength(5);
    for (const l of lines) {
      expect(l).toMatchObject({ time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), pid: process.pid });
      expect(l.durationMs).toBeGreaterThanOrEqual(0);
    }
    expect(
      lines.map(({ level, requestId, method, route, status }) => ({
        level,
        requestId,
        method,
        route,
        status,
      })),
    ).toEqual([
      { level: 'info', requestId, method: 'POST', route: '/infer', status: 200 },
      // Refused before its body was read: no request id to tell.
      { level: 'info', requestId: null, method: 'POST', route: '/infer', status: 401 },
      { level: 'info', requestId, method: 'POST', route: '/cancel/:requestId', status: 200 },
      { level: 'info', requestId: null, method: 'GET', route: null, status: 404 },
      // A successful probe is logged at debug (Caddy and Prometheus ask every few seconds).
      { level: 'debug', requestId: null, method: 'GET', route: '/health', status: 200 },
    ]);
  });

  it('exposes Prometheus metrics', async () => {
    const r = await backend.app.request('/metrics', { headers: auth });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const families = parsePrometheus(await r.text());
    for (const [name, type] of [
      ['spinn_backend_requests_total', 'counter'],
      ['spinn_backend_rejected_total', 'counter'],
      ['spinn_backend_cancels_total', 'counter'],
      ['spinn_backend_compute_seconds', 'histogram'],
      ['spinn_backend_queue_seconds', 'histogram'],
      ['spinn_backend_queue_depth', 'gauge'],
      ['spinn_backend_workers_busy', 'gauge'],
      ['spinn_backend_execution_provider', 'gauge'],
    ] as const) {
      expect(families.get(name)?.type, name).toBe(type);
    }
    const samples = (name: string) => families.get(name)!.samples;
    expect(
      samples('spinn_backend_requests_total').find((s) => s.labels.status === 'done')!.value,
    ).toBeGreaterThanOrEqual(1);
    expect(
      samples('spinn_backend_rejected_total').find((s) => s.labels.reason === 'unauthorized')!.value,
    ).toBeGreaterThanOrEqual(1);
    const count = samples('spinn_backend_compute_seconds').find(
      (s) => s.name === 'spinn_backend_compute_seconds_count',
    )!;
    expect(count.value).toBeGreaterThanOrEqual(1);
    const ep = samples('spinn_backend_execution_provider')[0]!;
    expect(ep.labels).toMatchObject({ requested: 'auto' });
    expect(['cpu', 'cuda']).toContain(ep.labels.provider);
  });
});
