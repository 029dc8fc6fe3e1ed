// A typed HTTP client for the edge's JSON routes, from the same source as the routes themselves: Hono's `hc` over
// the app's route types (worker/app.ts `AppType`), so a renamed path, a changed parameter or a different JSON answer
// is a type error in every caller. The msgpack route (POST /v1/infer) is the client library's (client/); image
// bodies for /v1/classify are plain fetch calls (examples/curl).

import { hc } from 'hono/client';
import type { AppType } from './app.js';

export interface EdgeApiOptions {
  /** An API key of the edge (sent as `authorization: Bearer <key>` on every call). */
  apiKey?: string;
  /** A fetch to use instead of the global one (tests: the app's own `request`). */
  fetch?: typeof fetch;
}

/** The edge's JSON API at `baseUrl`: `api.v1.plan.$post({ json })`, `api.v1.requests[':id'].$get(...)`, … */
export function edgeApi(baseUrl: string, options: EdgeApiOptions = {}) {
  return hc<AppType>(baseUrl, {
    ...(options.apiKey ? { headers: { authorization: `Bearer ${options.apiKey}` } } : {}),
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
}

export type EdgeApi = ReturnType<typeof edgeApi>;
