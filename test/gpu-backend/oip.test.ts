// The Open Inference Protocol v2 routes, with requests written from the protocol's documentation (KServe's
// open-inference-protocol REST spec and Triton's binary tensor data extension): health, server and model metadata,
// inference with flattened and nested JSON tensors and with binary tensors, early exits through the `threshold`
// parameter, and every kind of bad request answered `{"error": "..."}` with a 4xx. Real images, real model; answers
// checked against the original single model. The bearer token guards these routes like the internal API.

import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../gpu-backend/log.js';
import { createBackend, startServer, type RunningServer } from '../../gpu-backend/server.js';
import {
  MODEL_ID,
  SOURCE_MODEL,
  expectedAnswer,
  manifest,
  sourceModelExits,
  testConfig,
  testImages,
} from './helpers.js';

const TOKEN = 'oip-test-token';
const auth = { authorization: `Bearer ${TOKEN}` };
const INFER = `/v2/models/${MODEL_ID}/infer`;

interface OutputTensor {
  name: string;
  shape: number[];
  datatype: string;
  data?: number[];
  parameters?: { binary_data_size?: number };
}
interface InferResponse {
  model_name: string;
  id: string;
  parameters?: Record<string, unknown>;
  outputs: OutputTensor[];
}

describe('Open Inference Protocol v2', () => {
  let srv: RunningServer;
  let source: ort.InferenceSession;
  let images: Float32Array[];
  let probs: Float32Array[][];

  beforeAll(async () => {
    [srv, source] = await Promise.all([
      startServer(testConfig({ token: TOKEN, maxBodyBytes: 256 * 1024 }), silentLogger),
      ort.InferenceSession.create(SOURCE_MODEL, { intraOpNumThreads: 1, executionProviders: ['cpu'] }),
    ]);
    images = testImages(4);
    probs = await Promise.all(images.map((img) => sourceModelExits(source, img)));
  });
  afterAll(async () => {
    await srv?.close(0);
  });

  const call = (path: string, init: RequestInit = {}) =>
    fetch(`${srv.url}${path}`, { ...init, headers: { ...auth, ...(init.headers ?? {}) } });
  const postJson = (body: unknown, path = INFER) =>
    call(path, {
      method: 'POST',
      body: JSON.stringify(body),
      headers: { 'content-type': 'application/json' },
    });
  const flat = (xs: Float32Array[]) => xs.flatMap((x) => Array.from(x));
  const output = (r: InferResponse, name: string) => r.outputs.find((o) => o.name === name)!;
  const errorOf = async (res: Response, status: number) => {
    expect(res.status).toBe(status);
    const body = (await res.json()) as { error: string };
    expect(Object.keys(body)).toEqual(['error']);
    return body.error;
  };

  it('answers the health, server and model metadata endpoints', async () => {
    expect((await call('/v2/health/live')).status).toBe(200);
    expect((await call('/v2/health/ready')).status).toBe(200);
    expect(await (await call('/v2')).json()).toMatchObject({
      name: 'spinn-backend',
      extensions: ['binary_tensor_data'],
    });
    expect(await (await call(`/v2/models/${MODEL_ID}`)).json()).toEqual({
      name: MODEL_ID,
      platform: 'onnx_onnxv1',
      inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 1, 32, 32] }],
      outputs: [
        { name: 'probabilities', datatype: 'FP32', shape: [-1, 10] },
        { name: 'label', datatype: 'INT64', shape: [-1] },
        { name: 'confidence', datatype: 'FP32', shape: [-1] },
        { name: 'exit', datatype: 'INT64', shape: [-1] },
      ],
    });
    expect(await (await call(`/v2/models/${MODEL_ID}/ready`)).json()).toEqual({
      name: MODEL_ID,
      ready: true,
    });
    expect(await errorOf(await call('/v2/models/no-such-model'), 404)).toMatch(
      /unknown model "no-such-model"/,
    );
    expect(await errorOf(await call('/v2/models/no-such-model/ready'), 404)).toMatch(/unknown model/);
  });

  it('requires the bearer token on every route', async () => {
    for (const path of ['/v2/health/live', `/v2/models/${MODEL_ID}`]) {
      const res = await fetch(`${srv.url}${path}`);
      expect(await errorOf(res, 401)).toMatch(/bearer token/);
    }
    const res = await fetch(`${srv.url}${INFER}`, { method: 'POST', body: '{}' });
    expect(res.status).toBe(401);
  });

  it('infers a batch sent as flattened JSON data, as the single model does', async () => {
    const res = await postJson({
      id: '42',
      inputs: [{ name: 'input', shape: [3, 1, 32, 32], datatype: 'FP32', data: flat(images.slice(0, 3)) }],
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    const r = (await res.json()) as InferResponse;
    expect(r).toMatchObject({ model_name: MODEL_ID, id: '42', parameters: { threshold: 1 } });
    expect(r.outputs.map((o) => [o.name, o.datatype, o.shape])).toEqual([
      ['probabilities', 'FP32', [3, 10]],
      ['label', 'INT64', [3]],
      ['confidence', 'FP32', [3]],
      ['exit', 'INT64', [3]],
    ]);
    const m = manifest();
    for (let k = 0; k < 3; k++) {
      const want = expectedAnswer(m, probs[k]!, 0, 1);
      expect(output(r, 'label').data![k]).toBe(want.label);
      expect(output(r, 'exit').data![k]).toBe(m.exits.length - 1);
      expect(output(r, 'confidence').data![k]).toBeCloseTo(want.confidence, 5);
      const p = output(r, 'probabilities').data!.slice(k * 10, k * 10 + 10);
      p.forEach((x, i) => expect(Math.abs(x - probs[k]![m.exits.length - 1]![i]!)).toBeLessThanOrEqual(1e-5));
    }
  });

  it('takes nested data, returns only the outputs asked for, and exits early with the threshold parameter', async () => {
    const img = Array.from(images[3]!);
    const nested = [[Array.from({ length: 32 }, (_, y) => img.slice(y * 32, y * 32 + 32))]];
    const res = await postJson({
      parameters: { threshold: 0.5 },
      inputs: [{ name: 'input', shape: [1, 1, 32, 32], datatype: 'FP32', data: nested }],
      outputs: [{ name: 'label' }, { name: 'exit' }],
    });
    const r = (await res.json()) as InferResponse;
    const want = expectedAnswer(manifest(), probs[3]!, 0, 0.5);
    expect(r.outputs).toEqual([
      { name: 'label', shape: [1], datatype: 'INT64', data: [want.label] },
      { name: 'exit', shape: [1], datatype: 'INT64', data: [want.exit] },
    ]);
    expect(typeof r.id).toBe('string');
    expect(r.parameters).toEqual({ threshold: 0.5 });
  });

  it('speaks the binary tensor data extension both ways', async () => {
    const data = new Float32Array(flat(images.slice(0, 2)));
    const header = new TextEncoder().encode(
      JSON.stringify({
        inputs: [
          {
            name: 'input',
            shape: [2, 1, 32, 32],
            datatype: 'FP32',
            parameters: { binary_data_size: data.byteLength },
          },
        ],
        outputs: [{ name: 'probabilities', parameters: { binary_data: true } }, { name: 'label' }],
      }),
    );
    const body = new Uint8Array(header.length + data.byteLength);
    body.set(header);
    body.set(new Uint8Array(data.buffer), header.length);
    const res = await call(INFER, {
      method: 'POST',
      body,
      headers: {
        'content-type': 'application/octet-stream',
        'inference-header-content-length': String(header.length),
      },
    });
    expect(res.status).toBe(200);
    const n = Number(res.headers.get('inference-header-content-length'));
    const bytes = new Uint8Array(await res.arrayBuffer());
    const r = JSON.parse(new TextDecoder().decode(bytes.subarray(0, n))) as InferResponse;
    expect(output(r, 'probabilities')).toEqual({
      name: 'probabilities',
      shape: [2, 10],
      datatype: 'FP32',
      parameters: { binary_data_size: 80 },
    });
    const p = new Float32Array(bytes.slice(n).buffer);
    expect(p.length).toBe(20);
    const final = manifest().exits.length - 1;
    for (let k = 0; k < 2; k++) {
      expect(output(r, 'label').data![k]).toBe(expectedAnswer(manifest(), probs[k]!, 0, 1).label);
      for (let i = 0; i < 10; i++)
        expect(Math.abs(p[k * 10 + i]! - probs[k]![final]![i]!)).toBeLessThanOrEqual(1e-5);
    }
  });

  it('answers bad requests with 4xx and an error object', async () => {
    const one = Array.from(images[0]!);
    const input = (over: Record<string, unknown>) => ({
      inputs: [{ name: 'input', shape: [1, 1, 32, 32], datatype: 'FP32', data: one, ...over }],
    });
    const cases: [unknown, RegExp][] = [
      [{}, /inputs: /],
      [{ inputs: [] }, /inputs: /],
      [input({ name: 'image' }), /unknown input\(s\) image; model resnet56-fmnist takes one input, input/],
      [input({ datatype: 'INT64' }), /datatype INT64; the model takes FP32/],
      [input({ shape: [1, 1, 28, 28] }), /shape \[1,1,28,28\]; the model takes \[N,1,32,32\]/],
      [input({ shape: [0, 1, 32, 32] }), /with N ≥ 1/],
      [input({ data: one.slice(1) }), /data has 1023 elements, its shape holds 1024/],
      [input({ data: [...one, 0] }), /more than the 1024 elements/],
      [input({ data: ['a', ...one.slice(1)] }), /element 0 is "a", not a finite number/],
      // Core's activation rule (core/offload-validation.ts): JSON's 1e300 is Infinity in float32, and 3.4e38 is
      // finite but overflows inside the network (the backend once answered 500 for it).
      [
        input({ data: [1e300, ...one.slice(1)] }),
        /input input: activation value Infinity at index 0 is not finite/,
      ],
      [input({ data: Array(1024).fill(3.4e38) }), /activation value .* at index 0 is beyond ±1000000000/],
      [input({ data: undefined }), /neither data nor parameters.binary_data_size/],
      [{ ...input({}), outputs: [{ name: 'logits' }] }, /unknown output logits/],
      [{ ...input({}), parameters: { threshold: 2 } }, /threshold must be a number in \[0, 1\]/],
      [{ inputs: [input({}).inputs[0], input({}).inputs[0]] }, /given 2 times/],
    ];
    for (const [body, message] of cases) {
      expect(await errorOf(await postJson(body), 400), JSON.stringify(body).slice(0, 80)).toMatch(message);
    }
    const notJson = await call(INFER, { method: 'POST', body: '{"inputs": [' });
    expect(await errorOf(notJson, 400)).toMatch(/not valid JSON/);
    const badLength = await call(INFER, {
      method: 'POST',
      body: '{}',
      headers: { 'inference-header-content-length': '99' },
    });
    expect(await errorOf(badLength, 400)).toMatch(/Inference-Header-Content-Length "99"/);
    const shortBinary = await call(INFER, {
      method: 'POST',
      body: JSON.stringify(input({ data: undefined, parameters: { binary_data_size: 4096 } })),
      headers: {
        'inference-header-content-length': String(
          JSON.stringify(input({ data: undefined, parameters: { binary_data_size: 4096 } })).length,
        ),
      },
    });
    expect(await errorOf(shortBinary, 400)).toMatch(/binary_data_size 4096 with 0 bytes after the JSON/);
    expect(await errorOf(await postJson(input({}), '/v2/models/nope/infer'), 404)).toMatch(
      /unknown model "nope"/,
    );
    const tooBig = await postJson({
      inputs: [{ name: 'input', shape: [1], datatype: 'FP32', data: new Array(100_000).fill(0.5) }],
    });
    expect(await errorOf(tooBig, 413)).toMatch(/exceeds 262144 bytes/);
  });

  it('says it is not ready while draining', async () => {
    // In-process (app.request): while draining the server closes each connection after its answer.
    const app = srv.backend.app;
    const get = (path: string) => app.request(path, { headers: auth });
    srv.backend.state.draining = true;
    try {
      expect((await get('/v2/health/ready')).status).toBe(400);
      expect(await (await get(`/v2/models/${MODEL_ID}/ready`)).json()).toEqual({
        name: MODEL_ID,
        ready: false,
      });
      expect((await get('/v2/health/live')).status).toBe(200);
      const body = {
        inputs: [{ name: 'input', shape: [1, 1, 32, 32], datatype: 'FP32', data: Array.from(images[0]!) }],
      };
      const res = await app.request(INFER, { method: 'POST', body: JSON.stringify(body), headers: auth });
      expect(await errorOf(res, 503)).toMatch(/shutting down/);
    } finally {
      srv.backend.state.draining = false;
    }
    expect((await get('/v2/health/ready')).status).toBe(200);
  });

  it('refuses a batch the queue cannot hold as a whole (503), leaving nothing behind', async () => {
    const small = await createBackend(
      testConfig({ maxQueue: 1, batching: { maxBatch: 1, maxDelayMs: 0, perModel: {} } }),
      silentLogger,
    );
    try {
      const body = {
        inputs: [{ name: 'input', shape: [4, 1, 32, 32], datatype: 'FP32', data: flat(images) }],
      };
      const res = await small.app.request(INFER, { method: 'POST', body: JSON.stringify(body) });
      expect(res.headers.get('retry-after')).toBe('1');
      expect(await errorOf(res, 503)).toMatch(/overloaded: all 1 workers are busy and 1 requests are queued/);
      expect(small.pool.stats()).toMatchObject({ running: 0, queued: 0 });
      const ok = await small.app.request(INFER, {
        method: 'POST',
        body: JSON.stringify({
          inputs: [{ ...body.inputs[0], shape: [1, 1, 32, 32], data: flat(images.slice(0, 1)) }],
        }),
      });
      expect(ok.status).toBe(200);
    } finally {
      await small.close(0);
    }
  });
});
