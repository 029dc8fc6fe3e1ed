// The edge's access control, limits and CORS as middleware, through Hono's app.request() with hand-made bindings:
// which routes need a key, 401/403/503 and their headers, fail-closed without keys, the keyless loopback dev mode,
// the rate limiter's 429 + Retry-After (and failing open when the limiter itself fails), CORS preflights. The same
// paths run against real workerd in ../access.test.ts. Type-checked with the worker's tsconfig (Workers types, no
// Node APIs), hence this folder.

import { describe, expect, it } from 'vitest';
import { apiKeyEntry, hashApiKey, newApiKey } from '../../../core/api-keys.js';
import { app } from '../../../worker/app.js';
import type { Env } from '../../../worker/env.js';
import { RATE_LIMIT_PERIOD_S } from '../../../worker/limits.js';

const KEY = newApiKey();
const OTHER = newApiKey();
const API_KEYS = [
  apiKeyEntry('alice', await hashApiKey(KEY)),
  apiKeyEntry('bob', await hashApiKey(OTHER)),
].join(',\n');

/** A Rate Limiting binding that allows `limit` calls per key, and records the keys it was asked about. */
function limiter(limit: number) {
  const counts = new Map<string, number>();
  return {
    asked: [] as string[],
    async limit({ key }: { key: string }) {
      this.asked.push(key);
      const n = (counts.get(key) ?? 0) + 1;
      counts.set(key, n);
      return { success: n <= limit };
    },
  };
}

const env = (over: Partial<Env> = {}) =>
  ({ API_KEYS, BACKEND_URL: 'https://backend.example.com', ...over }) as Env;
// GET /v1/infer has no handler: a request that gets past access control ends in the router's 404.
const probe = (headers: Record<string, string> = {}, e: Env = env(), host = 'edge.example.com') =>
  app.request(`https://${host}/v1/infer`, { headers }, e);
const bearer = (k: string) => ({ authorization: `Bearer ${k}` });

describe('API keys', () => {
  it('no key → 401 with a Bearer challenge; an unknown key → 401 invalid_token; a listed key passes', async () => {
    const none = await probe();
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="spinn"');
    expect(await none.json()).toEqual({ error: expect.stringMatching(/missing API key/) });

    for (const wrong of [newApiKey(), `${KEY}x`, 'x'.repeat(5000)]) {
      const res = await probe(bearer(wrong));
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
    }
    expect((await probe({ authorization: `Basic ${btoa(`u:${KEY}`)}` })).status).toBe(401);
    expect((await probe(bearer(KEY))).status).toBe(404);
    expect((await probe({ authorization: `bearer   ${OTHER}` })).status).toBe(404);
  });

  it('a key that verified once is remembered, but only while API_KEYS still lists it', async () => {
    const first = env();
    expect((await probe(bearer(KEY), first)).status).toBe(404);
    expect((await probe(bearer(KEY), first)).status).toBe(404);
    // Rotated: the secret now lists only bob. The remembered key must not outlive its entry.
    const rotated = env({ API_KEYS: apiKeyEntry('bob', await hashApiKey(OTHER)) });
    expect((await probe(bearer(KEY), rotated)).status).toBe(401);
    expect((await probe(bearer(OTHER), rotated)).status).toBe(404);
    // And back: alice's key verifies again from its hash.
    expect((await probe(bearer(KEY), env())).status).toBe(404);
  });

  it('guards infer, plan and request state; the catalogue, OpenAPI and /healthz stay public', async () => {
    for (const [method, path] of [
      ['POST', '/v1/infer'],
      ['POST', '/v1/plan'],
      ['GET', '/v1/requests/abcdefgh'],
      ['DELETE', '/v1/requests/abcdefgh'],
    ] as const) {
      expect((await app.request(path, { method }, env())).status, `${method} ${path}`).toBe(401);
    }
    const spec = await app.request('/v1/openapi.json', {}, env());
    expect(spec.status).toBe(200);
  });

  it('fails closed without keys (403), even on loopback unless ALLOW_NO_KEYS_ON_LOOPBACK is set', async () => {
    const noKeys = env({ API_KEYS: '' });
    const deployed = await probe(bearer(KEY), noKeys);
    expect(deployed.status).toBe(403);
    expect(await deployed.json()).toEqual({ error: expect.stringMatching(/no API keys configured/) });
    expect((await probe({}, noKeys, '127.0.0.1:8787')).status).toBe(403);

    const dev = env({ API_KEYS: '', ALLOW_NO_KEYS_ON_LOOPBACK: 'true' });
    for (const host of ['127.0.0.1:8787', 'localhost:8787', '[::1]:8787']) {
      expect((await probe({}, dev, host)).status, host).toBe(404);
    }
    // The flag opens loopback only: the same worker reached under any other name is closed.
    expect((await probe({}, dev, 'spinn.example.workers.dev')).status).toBe(403);
    // And once keys exist, they are required everywhere.
    expect((await probe({}, env({ ALLOW_NO_KEYS_ON_LOOPBACK: 'true' }), '127.0.0.1')).status).toBe(401);
  });

  it('a malformed API_KEYS locks every keyed route (503) and names no key', async () => {
    const res = await probe(bearer(KEY), env({ API_KEYS: `${API_KEYS},oops` }));
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ error: expect.stringMatching(/API key configuration is invalid/) });
  });
});

describe('per-key rate limit', () => {
  it('counts by key name and answers 429 with Retry-After once the limiter refuses', async () => {
    const rl = limiter(2);
    const e = env({ KEY_RATE_LIMIT: rl as unknown as RateLimit });
    expect((await probe(bearer(KEY), e)).status).toBe(404);
    expect((await probe(bearer(KEY), e)).status).toBe(404);
    const refused = await probe(bearer(KEY), e);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe(String(RATE_LIMIT_PERIOD_S));
    expect(await refused.json()).toEqual({ error: expect.stringMatching(/rate limit of key alice/) });
    expect((await probe(bearer(OTHER), e)).status).toBe(404); // bob has his own budget
    expect(rl.asked).toEqual(['alice', 'alice', 'alice', 'bob']);
    // Unauthenticated requests never reach the limiter (they cannot spend anyone's budget).
    expect((await probe({}, e)).status).toBe(401);
    expect(rl.asked).toHaveLength(4);
  });

  it('lets requests through when the limiter itself fails', async () => {
    const broken = { limit: async () => Promise.reject(new Error('limiter down')) };
    const res = await probe(bearer(KEY), env({ KEY_RATE_LIMIT: broken as unknown as RateLimit }));
    expect(res.status).toBe(404);
  });
});

describe('CORS', () => {
  const preflight = (origin: string, e: Env) =>
    app.request(
      '/v1/infer',
      {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization,content-type',
        },
      },
      e,
    );

  it('answers preflights for configured origins without a key, allowing the headers the client sends', async () => {
    const e = env({ CORS_ORIGINS: 'https://app.example, https://other.example' });
    const ok = await preflight('https://app.example', e);
    expect(ok.status).toBe(204);
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://app.example');
    const allowed = ok.headers.get('access-control-allow-headers')!.split(',');
    expect(allowed).toEqual(expect.arrayContaining(['authorization', 'content-type', 'accept']));
    expect(ok.headers.get('access-control-allow-methods')).toMatch(/DELETE/);
    expect(ok.headers.get('vary')).toMatch(/Origin/);

    const foreign = await preflight('https://evil.example', e);
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
    expect(
      (await preflight('https://app.example', env())).headers.get('access-control-allow-origin'),
    ).toBeNull();
    expect(
      (await preflight('https://any.example', env({ CORS_ORIGINS: '*' }))).headers.get(
        'access-control-allow-origin',
      ),
    ).toBe('*');
  });

  it('errors carry the CORS headers too, and expose what clients read (Retry-After, the challenge)', async () => {
    const res = await app.request(
      'https://edge.example.com/v1/infer',
      { headers: { origin: 'https://app.example' } },
      env({ CORS_ORIGINS: 'https://app.example' }),
    );
    expect(res.status).toBe(401);
    expect(res.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(res.headers.get('access-control-expose-headers')!.split(',')).toEqual(
      expect.arrayContaining(['retry-after', 'www-authenticate', 'etag']),
    );
  });
});
