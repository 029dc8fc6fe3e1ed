// Worker entry point (wrangler.toml `main`): the API (/v1/*, /healthz) goes to the Hono app; every other GET or HEAD
// (the demo page, the client library, the model artifacts) to the site Worker bound as ASSETS (site/wrangler.toml
// says why the site is a Worker of its own), falling back to the app's JSON 404 when the site has no such file. Also
// exports the Durable Object class the REQUEST_STATE binding names.

import { app } from './app.js';
import type { Env } from './env.js';

export { RequestShard } from './request-state.js';

/** True for the paths the app answers; the site never sees them (as `run_worker_first` had it). */
function isApiPath(pathname: string): boolean {
  return pathname.startsWith('/v1/') || pathname === '/v1' || pathname === '/healthz';
}

export default {
  async fetch(request, env, ctx) {
    const { pathname } = new URL(request.url);
    if (isApiPath(pathname) || (request.method !== 'GET' && request.method !== 'HEAD'))
      return app.fetch(request, env, ctx);
    const asset = await env.ASSETS.fetch(request);
    // A GET carries no body, so the app can still read the same request for its 404.
    return asset.status === 404 ? app.fetch(request, env, ctx) : asset;
  },
} satisfies ExportedHandler<Env>;
