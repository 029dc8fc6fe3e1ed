// The access log: one JSON line per HTTP request the backend answers (refusals included), with the SPINN request id
// when the route learnt it, the method, the route pattern (low cardinality: `/cancel/:requestId`, not the path), the
// status and the time to the response. Routes hand the id over with `noteRequestId` once they have parsed it (for
// /infer it is inside the msgpack body). Probes that succeed (health, readiness, metrics scrapes, every few seconds
// from Caddy and Prometheus) are logged at debug so they do not drown the requests; a 500 at error, other 5xx
// (overloaded, shutting down) at warn.

import type { Context, MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';
import type { Logger } from './log.js';

const PROBE_ROUTES = new Set(['/health', '/metrics', '/v2/health/live', '/v2/health/ready']);

const requestIds = new WeakMap<Request, string>();

/** Records the SPINN request id of the request `c` is answering, for its access line. */
export function noteRequestId(c: Context, requestId: string): void {
  requestIds.set(c.req.raw, requestId);
}

export function accessLog(log: Logger): MiddlewareHandler {
  return async (c, next) => {
    const started = performance.now();
    await next();
    // The route pattern that answered; middleware (`app.use`, method ALL) is not one, so a request that matched
    // only middleware went to no route (the not-found answer) and has none.
    const route =
      matchedRoutes(c)
        .filter((r) => r.method !== 'ALL')
        .at(-1)?.path ?? null;
    const status = c.res.status;
    const line = {
      requestId: requestIds.get(c.req.raw) ?? null,
      method: c.req.method,
      route,
      status,
      durationMs: Math.round((performance.now() - started) * 100) / 100,
    };
    if (status === 500) log.error(line, 'request');
    else if (status > 500) log.warn(line, 'request');
    else if (status < 300 && route !== null && PROBE_ROUTES.has(route)) log.debug(line, 'request');
    else log.info(line, 'request');
  };
}
