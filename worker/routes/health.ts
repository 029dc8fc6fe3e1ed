// GET /healthz: the worker answers, and says whether each backend's health route is reachable right now (short
// timeout), with the edge's routing state for it (in rotation or ejected, in flight, estimated load). `ok` when every
// backend answers; a down backend makes the edge `degraded`, not an error: the others take its requests, and clients
// can still run locally. `backend` summarises the fleet in the shape a one-backend edge always had.

import { Hono } from 'hono';
import type { z } from 'zod';
import { PROTOCOL_VERSION } from '../../core/wire.js';
import type { healthAnswerSchema } from '../api-schemas.js';
import { readConfig, type AppEnv } from '../env.js';
import { fleetHealth } from '../fleet-health.js';

export const healthRoutes = new Hono<AppEnv>().get('/healthz', async (c) => {
  const config = readConfig(c.env);
  const backends = await fleetHealth(config);
  const first = backends[0];
  const tokenConfigured = config.backendToken !== undefined;
  const answer: z.output<typeof healthAnswerSchema> = {
    status: backends.length > 0 && backends.every((b) => b.reachable) ? 'ok' : 'degraded',
    worker: { ok: true, protocolVersion: PROTOCOL_VERSION, models: config.models },
    backend: first
      ? {
          url: first.url,
          tokenConfigured,
          reachable: backends.some((b) => b.reachable),
          ...(first.httpStatus !== undefined ? { httpStatus: first.httpStatus } : {}),
          ...(first.body !== undefined ? { body: first.body } : {}),
          ...(first.error !== undefined ? { error: first.error } : {}),
          ms: first.ms,
        }
      : { url: null, tokenConfigured, reachable: false, error: config.backendsProblem, ms: 0 },
    backends,
    ...(config.backendsNotice ? { notice: config.backendsNotice } : {}),
  };
  return c.json(answer);
});
