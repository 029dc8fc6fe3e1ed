// The generated OpenAPI document against the app itself, in process (Hono's app.request with hand-made bindings):
// every route the app registers is documented and every documented operation is registered, and Hono's typed
// client (worker/api-client.ts, `hc` over the app's route types) calls the JSON routes, each answer validating
// against the document. Real messages through real workerd, msgpack included: ../openapi.test.ts. Type-checked with
// the worker's tsconfig (the typed client needs the app's types), hence this folder.

import { describe, expect, it } from 'vitest';
import manifestJson from '../../../models/resnet56-fmnist/manifest.json';
import { PROTOCOL_VERSION } from '../../../core/wire.js';
import { apiKeyEntry, hashApiKey, newApiKey } from '../../../core/api-keys.js';
import { edgeApi } from '../../../worker/api-client.js';
import { app } from '../../../worker/app.js';
import type { Env } from '../../../worker/env.js';
import { openApiDocument } from '../../../worker/openapi-document.js';
import { OPERATIONS, openApiPath } from '../../../worker/openapi-operations.js';
import { openApiValidator } from '../../support/openapi-validator.js';

const KEY = newApiKey();
const MODEL = 'resnet56-fmnist';

/** Bindings: one key, a backend URL nobody listens on (so health is `degraded`), the real manifest as the asset. */
const env = {
  API_KEYS: apiKeyEntry('alice', await hashApiKey(KEY)),
  BACKEND_URL: 'http://127.0.0.1:9',
  MODELS: MODEL,
  ASSETS: {
    fetch: async (req: Request) =>
      new URL(req.url).pathname === `/${MODEL}/manifest.json`
        ? Response.json(manifestJson)
        : new Response('not found', { status: 404 }),
  },
} as unknown as Env;

const doc = openApiDocument() as {
  paths: Record<string, Record<string, unknown>>;
  info: Record<string, unknown>;
};
const validator = openApiValidator(doc);
/** The app itself as the client's fetch. */
const inProcess = ((input: RequestInfo | URL, init?: RequestInit) =>
  app.request(input instanceof URL ? input.href : input, init, env)) as typeof fetch;
const api = edgeApi('https://edge.example.com', { apiKey: KEY, fetch: inProcess });

/** Asserts that `res` is a documented answer of `method path` and returns its JSON. */
async function documented(
  res: { status: number; json(): Promise<unknown> },
  method: string,
  path: string,
): Promise<unknown> {
  const body: unknown = await res.json();
  expect(validator.answer(method, path, res.status, 'application/json', body)).toEqual([]);
  return body;
}

describe('the generated OpenAPI document', () => {
  it('documents exactly the routes the app registers', () => {
    const registered = new Set(
      app.routes.filter((r) => r.method !== 'ALL').map((r) => `${r.method} ${openApiPath(r.path)}`),
    );
    const documented = new Set(
      Object.entries(doc.paths).flatMap(([path, ops]) =>
        Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`),
      ),
    );
    expect([...registered].sort()).toEqual([...documented].sort());
    expect(OPERATIONS.length).toBe(documented.size);
    expect(registered).toContain('POST /v1/classify');
  });

  it('is what GET /v1/openapi.json serves, with the package and protocol versions', async () => {
    const res = await api.v1['openapi.json'].$get();
    expect(res.status).toBe(200);
    const served = (await res.json()) as { info: Record<string, unknown> };
    expect(served).toEqual(JSON.parse(JSON.stringify(doc)));
    expect(served.info['x-spinn-protocol-version']).toBe(PROTOCOL_VERSION);
  });
});

describe("Hono's typed client on the JSON routes", () => {
  it('reads the catalogue, the manifest and the health, each answer as documented', async () => {
    const list = await api.v1.models.$get();
    expect(list.status).toBe(200);
    const { models } = await list.json();
    expect(models.map((m) => m.id)).toEqual([MODEL]);
    await documented(await api.v1.models.$get(), 'get', '/v1/models');

    const manifest = await api.v1.models[':id'].manifest.$get({ param: { id: MODEL } });
    expect(manifest.status).toBe(200);
    await documented(manifest, 'get', '/v1/models/{id}/manifest');

    const health = await api.healthz.$get();
    const h = (await documented(health, 'get', '/healthz')) as { status: string };
    expect(h.status).toBe('degraded');
  });

  it('plans (device-only while the backend is unreachable), and its errors are documented too', async () => {
    const res = await api.v1.plan.$post({ json: { modelId: MODEL, context: { rttMs: 30 } } });
    expect(res.status).toBe(200);
    const { plan } = (await documented(res, 'post', '/v1/plan')) as { plan: { split: number } };
    expect(plan.split).toBe(manifestJson.blocks.length);

    const unknown = await api.v1.plan.$post({ json: { modelId: 'no-such-model' } });
    expect(unknown.status).toBe(404);
    await documented(unknown, 'post', '/v1/plan');

    const bad = await api.v1.plan.$post({ json: { modelId: MODEL, sla: { policy: 'fastest' } } as never });
    expect(bad.status).toBe(400);
    const { error } = (await documented(bad, 'post', '/v1/plan')) as { error: string };
    expect(error).toMatch(/^invalid plan request: sla\.policy: /);

    const anonymous = edgeApi('https://edge.example.com', { fetch: inProcess });
    const refused = await anonymous.v1.plan.$post({ json: { modelId: MODEL } });
    expect(refused.status).toBe(401);
    await documented(refused, 'post', '/v1/plan');
  });
});
