// An edge without a usable BACKENDS or BACKEND_URL (there is no default) refuses the routes that need the backend with a 503
// that says what to set, after the key check, and /healthz reports it; the public catalogue keeps working. Through
// Hono's app.request() with hand-made bindings; type-checked with the worker's tsconfig.

import { describe, expect, it } from 'vitest';
import { apiKeyEntry, hashApiKey, newApiKey } from '../../../core/api-keys.js';
import { app } from '../../../worker/app.js';
import type { Env } from '../../../worker/env.js';

const KEY = newApiKey();
const API_KEYS = apiKeyEntry('alice', await hashApiKey(KEY));
const auth = { authorization: `Bearer ${KEY}` };
const env = (over: Partial<Env> = {}) => ({ API_KEYS, MODELS: '', ...over }) as Env;
const plan = (e: Env, headers: Record<string, string> = auth) =>
  app.request(
    'https://edge.example.com/v1/plan',
    { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: '{}' },
    e,
  );

describe('an edge without backends', () => {
  it('answers 503 naming the missing setting on keyed routes, and only to a valid key', async () => {
    for (const e of [env(), env({ BACKEND_URL: '' }), env({ BACKEND_URL: '   ', BACKENDS: ' , ' })]) {
      const res = await plan(e);
      expect(res.status).toBe(503);
      expect(((await res.json()) as { error: string }).error).toMatch(
        /not configured: BACKENDS is not set.*wrangler secret put BACKENDS --env production/,
      );
    }
    for (const [method, path] of [
      ['POST', '/v1/infer'],
      ['GET', '/v1/requests/r1'],
      ['DELETE', '/v1/requests/r1'],
    ] as const) {
      const res = await app.request(`https://edge.example.com${path}`, { method, headers: auth }, env());
      expect(res.status, `${method} ${path}`).toBe(503);
    }
    expect((await plan(env(), {})).status).toBe(401);
  });

  it('refuses a BACKEND_URL or BACKENDS entry that is not an http(s) URL, saying which value', async () => {
    for (const bad of ['backend.example.com', 'ftp://backend.example.com', 'https//x']) {
      for (const e of [env({ BACKEND_URL: bad }), env({ BACKENDS: `https://ok.example.com,${bad}` })]) {
        const res = await plan(e);
        expect(res.status, bad).toBe(503);
        expect(((await res.json()) as { error: string }).error).toContain(JSON.stringify(bad));
      }
    }
  });

  it('reports the problem in /healthz without fetching anything', async () => {
    const res = await app.request('https://edge.example.com/healthz', {}, env());
    const body = (await res.json()) as { status: string; backend: Record<string, unknown> };
    expect(body.status).toBe('degraded');
    expect(body.backend).toMatchObject({ url: null, reachable: false, ms: 0 });
    expect(body.backend.error).toMatch(/BACKENDS is not set/);
  });

  it('passes requests on once BACKEND_URL is an http(s) URL', async () => {
    // GET /v1/infer has no handler: past access control and this check, the router answers 404.
    const res = await app.request(
      'https://edge.example.com/v1/infer',
      { headers: auth },
      env({ BACKEND_URL: 'https://backend.example.com/b1/' }),
    );
    expect(res.status).toBe(404);
  });
});
