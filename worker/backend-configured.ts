// Refuses to serve the routes that need the backend while the edge has no usable fleet (BACKENDS and BACKEND_URL
// unset, or an entry that is not an http(s) URL, or malformed OIP_BACKENDS; worker/backends-config.ts): 503 with
// what the operator must set, and one log line per isolate for Workers Logs. There is no default backend, so a
// deployment that forgot its setting says so here instead of sending offloads to a guess.

import type { MiddlewareHandler } from 'hono';
import { readConfig, type AppEnv } from './env.js';
import { httpError } from './http-error.js';

let logged = false;

export const requireBackend: MiddlewareHandler<AppEnv> = async (c, next) => {
  const problem = readConfig(c.env).backendsProblem;
  if (problem !== null) {
    if (!logged) {
      logged = true;
      console.error(`refusing backend routes: ${problem}`);
    }
    throw httpError(503, `this edge is not configured: ${problem}`);
  }
  return next();
};
