// POST /v1/plan: a plan from the client's context and SLA without offloading anything — the client's first plan,
// and its refresh while it runs on the device alone. The backends' /health give the live load and whether the
// server can be reached at all (fleet-health.ts: the lightest load among the backends serving); an unreachable
// fleet yields a device-only plan, not an error.

import { Hono } from 'hono';
import { validationMessage } from '../../core/public-error.js';
import { planRequestSchema, type PlanRequest } from '../../core/wire.js';
import { readConfig, type AppEnv } from '../env.js';
import { fleetForPlan, fleetHealth } from '../fleet-health.js';
import { httpError } from '../http-error.js';
import { getManifest } from '../model-registry.js';
import { planFor } from '../next-plan.js';
import { hasMediaType, readJsonLimited } from '../read-body.js';

const MAX_PLAN_BODY = 16 * 1024;

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
  const { available: serverAvailable, load } = fleetForPlan(await fleetHealth(config));
  const plan = planFor({
    manifest,
    context: req.context,
    ...(req.sla ? { sla: req.sla } : {}),
    ...(load ? { load } : {}),
    serverAvailable,
  });
  return c.json({ plan, backend: { reachable: serverAvailable, ...(load ? { load } : {}) } });
});
