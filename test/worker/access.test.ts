// Access control and limits through real workerd (the deploy bundle under Miniflare, a real HTTP backend double):
// API keys, request ids owned by the key that first used them (404 for anyone else, and nothing changes), the
// per-key concurrency cap and rate limit (429 + Retry-After), CORS, fail-closed without keys and the loopback-only
// dev mode, and the 408 for a body trickled a byte at a time. Races are decided by the backend double's gates
// (`nextInfer`, answers only on cancel), never by timing.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newApiKey } from '../../core/api-keys.js';
import { encodeMessage, WIRE_CONTENT_TYPE } from '../../core/wire.js';
import { FIXTURE_MODEL_ID, writeFixtureAssets } from '../support/fixture-model.js';
import { startFakeBackend, type FakeBackend } from '../support/fake-backend.js';
import { rawRequest } from '../support/raw-http.js';
import { REPO_ROOT, startWorker, type RunningWorker } from '../support/start-worker.js';
import { newRequestId, offload, postOffload, readResult } from '../support/wire-helpers.js';

const TOKEN = 'access-token';
/** wrangler.toml's [[ratelimits]] period: the Retry-After a refused key must be told (worker/limits.ts). */
const RATE_LIMIT_PERIOD_S = Number(
  /\[\[ratelimits\]\][^[]*name = "KEY_RATE_LIMIT"[^[]*period = (\d+)/.exec(
    readFileSync(join(REPO_ROOT, 'wrangler.toml'), 'utf8'),
  )?.[1],
) as 10 | 60;
const assetsDir = writeFixtureAssets().dir;
let backend: FakeBackend;
let worker: RunningWorker;
let A: Record<string, string>;
let B: Record<string, string>;

beforeAll(async () => {
  backend = await startFakeBackend();
  worker = await startWorker({
    backendUrl: backend.url,
    backendToken: TOKEN,
    assetsDir,
    apiKeys: 2,
    vars: {
      MODELS: FIXTURE_MODEL_ID,
      MAX_INFLIGHT_PER_KEY: '2',
      CORS_ORIGINS: 'https://app.example',
      BODY_TIMEOUT_MS: '600',
    },
  });
  A = { authorization: `Bearer ${worker.apiKeys[0]}` };
  B = { authorization: `Bearer ${worker.apiKeys[1]}` };
});

afterAll(async () => {
  await worker?.stop();
  await backend?.close();
});

const get = (id: string, auth: Record<string, string>) =>
  fetch(`${worker.url}/v1/requests/${id}`, { headers: auth });
const del = (id: string, auth: Record<string, string>) =>
  fetch(`${worker.url}/v1/requests/${id}`, { method: 'DELETE', headers: auth });
const errorOf = async (res: Response) => ((await res.json()) as { error: string }).error;

describe('API keys on real workerd', () => {
  it('401 without a key or with a wrong one; either configured key works; the catalogue needs none', async () => {
    const none = await postOffload(worker.url, offload(), { authorization: '' });
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="spinn"');
    expect(await errorOf(none)).toMatch(/missing API key/);
    const wrong = await postOffload(worker.url, offload(), { authorization: `Bearer ${newApiKey()}` });
    expect(wrong.status).toBe(401);
    expect(await errorOf(wrong)).toBe('unknown API key');
    expect(backend.infers).toHaveLength(0);

    for (const auth of [A, B]) {
      expect((await readResult(await postOffload(worker.url, offload(), auth))).status).toBe('done');
    }
    for (const path of [
      '/v1/models',
      `/v1/models/${FIXTURE_MODEL_ID}/manifest`,
      '/v1/openapi.json',
      '/healthz',
    ]) {
      const res = await fetch(`${worker.url}${path}`);
      expect(res.status, path).toBe(200);
      await res.arrayBuffer();
    }
  });
});

describe('error answers and keep-alive', () => {
  it("a refused request with a small body does not break the client's next request on the same connection", async () => {
    // Left unread, the body would make workerd close the connection after the 401, while fetch may already have
    // sent the next request on it ("other side closed"). The worker reads small bodies before answering an error.
    for (let i = 0; i < 30; i++) {
      const refused = await postOffload(worker.url, new Uint8Array(2000), { authorization: '' });
      expect(refused.status).toBe(401);
      await refused.arrayBuffer();
      const next = await fetch(`${worker.url}/v1/models`);
      expect(next.status).toBe(200);
      await next.arrayBuffer();
    }
  });
});

describe('request ids belong to the key that first used them', () => {
  it("another key reads and cancels nothing (404), cannot take the id, and the owner's request is unharmed", async () => {
    backend.delayMs = 60_000;
    const msg = offload();
    const inflight = postOffload(worker.url, msg, A);
    await backend.nextInfer(msg.requestId);

    const peek = await get(msg.requestId, B);
    expect(peek.status).toBe(404);
    expect(await errorOf(peek)).toBe(`request ${msg.requestId} is unknown (never seen, or expired)`);
    const steal = await del(msg.requestId, B);
    expect(steal.status).toBe(404);
    expect(await errorOf(steal)).toBe(`request ${msg.requestId} is unknown (never seen, or expired)`);
    const reuse = await postOffload(worker.url, msg, B);
    expect(reuse.status).toBe(409);
    expect(backend.cancels.map((c) => c.requestId)).not.toContain(msg.requestId);
    expect(((await (await get(msg.requestId, A)).json()) as { status: string }).status).toBe('running');

    // The owner cancels: that one counts.
    expect(((await (await del(msg.requestId, A)).json()) as { status: string }).status).toBe('cancelled');
    expect((await readResult(await inflight)).status).toBe('cancelled');
    backend.delayMs = 0;
  });

  it("a cancel that arrives first is the canceller's: another key's offload of that id is refused", async () => {
    const msg = offload();
    expect((await del(msg.requestId, B)).status).toBe(200);
    const other = await postOffload(worker.url, msg, A);
    expect(other.status).toBe(409);
    expect(await errorOf(other)).toMatch(/single-use/);
    expect((await get(msg.requestId, A)).status).toBe(404);
    const own = await postOffload(worker.url, msg, B);
    expect((await readResult(own)).status).toBe('cancelled');
    // The canceller's cancel reached the backend before either offload (so the real backend refuses the id).
    expect(backend.cancels.map((c) => c.requestId)).toContain(msg.requestId);
  });
});

describe('per-key concurrency cap', () => {
  it('refuses a third offload in flight with 429 + Retry-After, never for cancels or other keys', async () => {
    backend.delayMs = 60_000;
    const held = [offload(), offload()];
    const answers = held.map((m) => postOffload(worker.url, m, A));
    await Promise.all(held.map((m) => backend.nextInfer(m.requestId)));

    const third = offload();
    const refused = await postOffload(worker.url, third, A);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(await errorOf(refused)).toMatch(/2 offloads in flight \(limit 2\)/);
    expect(backend.infers.map((i) => i.offload.requestId)).not.toContain(third.requestId);

    const other = offload();
    const otherAnswer = postOffload(worker.url, other, B);
    await backend.nextInfer(other.requestId);

    // Cancels are never capped: they free what the cap protects.
    for (const m of [...held, other]) {
      expect((await del(m.requestId, m === other ? B : A)).status).toBe(200);
    }
    for (const a of [...answers, otherAnswer]) expect((await readResult(await a)).status).toBe('cancelled');
    backend.delayMs = 0;
    expect((await readResult(await postOffload(worker.url, third, A))).status).toBe('done');
  });
});

describe('CORS on real workerd', () => {
  it('answers the preflight of a configured origin and labels answers (errors included) for it', async () => {
    const pre = await fetch(`${worker.url}/v1/infer`, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://app.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization, content-type',
      },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(pre.headers.get('access-control-allow-headers')).toMatch(/authorization/);
    const denied = await postOffload(worker.url, offload(), {
      origin: 'https://app.example',
      authorization: '',
    });
    expect(denied.status).toBe(401);
    expect(denied.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(denied.headers.get('access-control-expose-headers')).toMatch(/retry-after/);
    await denied.arrayBuffer();
    const foreign = await fetch(`${worker.url}/v1/models`, { headers: { origin: 'https://evil.example' } });
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
    await foreign.arrayBuffer();
  });
});

describe('request body deadline', () => {
  it('answers 408 to a body trickled a byte at a time, and forwards nothing', async () => {
    const body = encodeMessage(offload());
    const before = backend.infers.length;
    const res = await rawRequest(worker.url, {
      method: 'POST',
      path: '/v1/infer',
      headers: {
        host: new URL(worker.url).host,
        'content-type': WIRE_CONTENT_TYPE,
        'content-length': String(body.length),
        ...A,
      },
      body,
      trickleEveryMs: 100,
    });
    expect(res.status).toBe(408);
    expect(JSON.parse(res.body)).toEqual({ error: expect.stringMatching(/did not arrive within 600 ms/) });
    expect(res.bytesSent).toBeLessThan(body.length);
    expect(backend.infers.length).toBe(before);
  });
});

describe('per-key rate limit (Workers Rate Limiting binding, simulated by Miniflare)', () => {
  const LIMIT = 5;
  let limited: RunningWorker;
  beforeAll(async () => {
    limited = await startWorker({
      backendUrl: backend.url,
      assetsDir,
      apiKeys: 2,
      rateLimit: { limit: LIMIT, period: RATE_LIMIT_PERIOD_S },
      vars: { MODELS: FIXTURE_MODEL_ID },
    });
  });
  afterAll(async () => limited?.stop());

  it('refuses a key past its budget with 429 + Retry-After; other keys keep theirs', async () => {
    const [a, b] = limited.apiKeys.map((k) => ({ authorization: `Bearer ${k}` }));
    // The limiter counts in fixed windows, so a burst may straddle two of them: of 2 × LIMIT + 1 requests sent well
    // within one period, at most 2 × LIMIT pass and at least one is refused, wherever the window boundary falls.
    const statuses: number[] = [];
    let refusal: Response | undefined;
    for (let i = 0; i < 2 * LIMIT + 1; i++) {
      const res = await fetch(`${limited.url}/v1/requests/${newRequestId()}`, { headers: a });
      statuses.push(res.status);
      if (res.status === 429) refusal ??= res;
      else await res.arrayBuffer();
    }
    expect(statuses.filter((s) => s === 404).length).toBeGreaterThanOrEqual(LIMIT);
    expect(statuses.filter((s) => s === 404).length).toBeLessThanOrEqual(2 * LIMIT);
    expect(refusal).toBeDefined();
    expect(refusal!.headers.get('retry-after')).toBe(String(RATE_LIMIT_PERIOD_S));
    expect(await errorOf(refusal!)).toMatch(/rate limit of key key0 reached/);
    expect((await fetch(`${limited.url}/v1/requests/${newRequestId()}`, { headers: b })).status).toBe(404);
  });
});

describe('without API keys', () => {
  it('fails closed; the loopback dev mode opens 127.0.0.1 only', async () => {
    const closed = await startWorker({ backendUrl: backend.url, assetsDir, apiKeys: 0 });
    try {
      const res = await postOffload(closed.url, offload());
      expect(res.status).toBe(403);
      expect(await errorOf(res)).toMatch(/no API keys configured/);
      expect((await fetch(`${closed.url}/v1/requests/${newRequestId()}`)).status).toBe(403);
      expect((await fetch(`${closed.url}/v1/models`)).status).toBe(200);
    } finally {
      await closed.stop();
    }
    const dev = await startWorker({
      backendUrl: backend.url,
      assetsDir,
      apiKeys: 0,
      vars: { MODELS: FIXTURE_MODEL_ID, ALLOW_NO_KEYS_ON_LOOPBACK: 'true' },
    });
    try {
      expect((await readResult(await postOffload(dev.url, offload()))).status).toBe('done');
      const path = `/v1/requests/${newRequestId()}`;
      const local = await rawRequest(dev.url, {
        method: 'GET',
        path,
        headers: { host: new URL(dev.url).host },
      });
      expect(local.status).toBe(404);
      const named = await rawRequest(dev.url, {
        method: 'GET',
        path,
        headers: { host: 'spinn.example.com' },
      });
      expect(named.status).toBe(403);
    } finally {
      await dev.stop();
    }
  });
});
