// GET /healthz: the worker answers, and says whether each backend's health route is reachable right now (short
// timeout), with the edge's routing state for it (in rotation or ejected, in flight, estimated load). `ok` when every
// backend answers; a down backend makes the edge `degraded`, not an error: the others take its requests, and clients
// can still run locally. `backend` summarises the fleet in the shape a one-backend edge always had.

import { Hono } from 'hono';
import { PROTOCOL_VERSION } from '../../core/wire.js';
import { readConfig, type AppEnv } from '../env.js';
import { fleetHealth } from '../fleet-health.js';

export const healthRoutes = new Hono<AppEnv>();

healthRoutes.get('/healthz', async (c) => {
  const config = readConfig(c.env);
  const backends = await fleetHealth(config);
  const first = backends[0];
  const reachable = backends.some((b) => b.reachable);
  const backend = first
    ? { ...first, url: first.url, reachable }
    : { url: null, reachable: false, error: config.backendsProblem, ms: 0 };
  return c.json({
    status: backends.length > 0 && backends.every((b) => b.reachable) ? 'ok' : 'degraded',
    worker: { ok: true, protocolVersion: PROTOCOL_VERSION, models: config.models },
    backend: { ...backend, tokenConfigured: config.backendToken !== undefined },
    backends,
    ...(config.backendsNotice ? { notice: config.backendsNotice } : {}),
  });
});
