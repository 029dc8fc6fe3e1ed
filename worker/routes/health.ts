// GET /healthz: the worker answers, and says whether the backend's /health is reachable right now (short
// timeout). A down backend is `degraded`, not an error: clients can still run locally.

import { Hono } from 'hono';
import { PROTOCOL_VERSION } from '../../core/wire.js';
import { backendHealth } from '../backend-client.js';
import { readConfig, type AppEnv } from '../env.js';

export const healthRoutes = new Hono<AppEnv>().get('/healthz', async (c) => {
  const config = readConfig(c.env);
  const backend = await backendHealth(config);
  return c.json({
    status: backend.reachable ? 'ok' : 'degraded',
    worker: { ok: true, protocolVersion: PROTOCOL_VERSION, models: config.models },
    backend: { url: config.backendUrl, tokenConfigured: config.backendToken !== undefined, ...backend },
  });
});
