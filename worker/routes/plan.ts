// POST /v1/plan: a plan from the client's context and SLA without offloading anything — the client's first plan,
// and its refresh while it runs on the device alone. The backend's /health gives the live load and whether the
// server can be reached at all; an unreachable backend yields a device-only plan, not an error.

import { Hono } from 'hono';
import { validationMessage } from '../../core/public-error.js';
import { planRequestSchema, type PlanRequest } from '../../core/wire.js';
import { backendHealth } from '../backend-client.js';
import { readConfig, type AppEnv } from '../env.js';
import { httpError } from '../http-error.js';
import { getManifest } from '../model-registry.js';
import { planFor } from '../next-plan.js';
import { hasMediaType, readJsonLimited } from '../read-body.js';

const MAX_PLAN_BODY = 16 * 1024;

function loadOf(body: unknown) {
  const b = body as { busy?: unknown; queued?: unknown; workers?: unknown; status?: unknown } | undefined;
  if (typeof b?.busy !== 'number' || typeof b.queued !== 'number') return undefined;
  return { busy: b.busy, queued: b.queued, workers: typeof b.workers === 'number' ? b.workers : 1 };
}

export const planRoutes = new Hono<AppEnv>().post('/v1/plan', async (c) => {
  const config = readConfig(c.env);
  if (!hasMediaType(c.req.raw, 'application/json')) {
    throw httpError(415, 'content-type must be application/json');
  }
  const json = await readJsonLimited(c.req.raw, MAX_PLAN_BODY, config.bodyTimeoutMs);
  const parsed = planRequestSchema.safeParse(json);
  if (!parsed.success) {
    throw httpError(400, validationMessage('plan request', parsed.error.issues));
  }
  const req: PlanRequest = parsed.data;
  const manifest = await getManifest(c.env, config, req.modelId);
  const health = await backendHealth(config);
  const status = (health.body as { status?: unknown } | undefined)?.status;
  const serverAvailable = health.reachable && status !== 'draining' && status !== 'unavailable';
  const load = loadOf(health.body);
  const plan = planFor({
    manifest,
    context: req.context,
    ...(req.sla ? { sla: req.sla } : {}),
    ...(load ? { load } : {}),
    serverAvailable,
  });
  return c.json({ plan, backend: { reachable: serverAvailable, ...(load ? { load } : {}) } });
});
