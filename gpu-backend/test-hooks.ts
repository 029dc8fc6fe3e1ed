// Routes that exist only when the backend starts with --test-hooks (SPINN_BACKEND_TEST_HOOKS): the test suite's way
// to decide a race by a gate instead of by speed. `POST /test/hold {"afterBlocks": n}` makes every job, running or
// to come, wait once it has run n blocks until `DELETE /test/hold` or its own cancel; `GET /test/hold` says which
// requests are held right now, so a test can wait for the moment a job is parked rather than sleep. Never enable
// them in production: a held job keeps a worker busy indefinitely. Behind the same bearer token as every route.

import type { Hono } from 'hono';
import type { InferencePool } from './inference-pool.js';

export function registerTestHooks(app: Hono, pool: InferencePool): void {
  app.get('/test/hold', (c) => c.json(pool.holdState()));
  app.post('/test/hold', async (c) => {
    const body = (await c.req.json().catch(() => null)) as { afterBlocks?: unknown } | null;
    const n = body?.afterBlocks;
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0)
      return c.json({ error: 'body must be {"afterBlocks": <non-negative integer>}' }, 400);
    pool.setHold(n);
    return c.json(pool.holdState());
  });
  app.delete('/test/hold', (c) => {
    pool.setHold(null);
    return c.json(pool.holdState());
  });
}
