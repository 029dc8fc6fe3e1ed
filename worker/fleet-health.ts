// The health of every backend in the fleet at once, for GET /healthz and POST /v1/plan: each backend's health route
// probed in parallel (short timeout), its reported load noted by the isolate's pool, and the pool's routing state
// beside it. Observing never ejects or readmits: only offloads and the router's own probes do.

import { serverLoadFactor, type BackendLoad } from '../core/scheduler-context.js';
import type { BackendSpec } from './backends-config.js';
import { backendHealth, type BackendHealth } from './backend-client.js';
import { poolFor, type RoutingView } from './backend-pool.js';
import type { WorkerConfig } from './env.js';
import { healthLoad } from './offload-router.js';

export interface FleetMember extends BackendHealth {
  name: string;
  kind: BackendSpec['kind'];
  url: string;
  weight: number;
  /** A SPINN backend that answered and is neither draining nor unavailable. */
  serving: boolean;
  load?: BackendLoad;
  routing: RoutingView | null;
}

export async function fleetHealth(config: WorkerConfig): Promise<FleetMember[]> {
  const pool = poolFor(config.backends);
  return Promise.all(
    config.backends.map(async (b): Promise<FleetMember> => {
      const health = await backendHealth(config, b);
      const load = b.kind === 'spinn' ? healthLoad(health.body) : undefined;
      if (load) pool.reportLoad(b.name, load);
      const status = (health.body as { status?: unknown } | undefined)?.status;
      return {
        name: b.name,
        kind: b.kind,
        url: b.url,
        weight: b.weight,
        ...health,
        serving: health.reachable && status !== 'draining' && status !== 'unavailable',
        ...(load ? { load } : {}),
        routing: pool.view(b.name),
      };
    }),
  );
}

/** What the scheduler should assume: any SPINN backend serving, and the lightest load among those that are. */
export function fleetForPlan(members: readonly FleetMember[]): { available: boolean; load?: BackendLoad } {
  const serving = members.filter((m) => m.kind === 'spinn' && m.serving);
  const loads = serving.flatMap((m) => (m.load ? [m.load] : []));
  const lightest = loads.reduce<BackendLoad | undefined>(
    (best, l) => (best === undefined || serverLoadFactor(l) < serverLoadFactor(best) ? l : best),
    undefined,
  );
  return { available: serving.length > 0, ...(lightest ? { load: lightest } : {}) };
}
