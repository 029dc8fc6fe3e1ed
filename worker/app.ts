// The Hono application: CORS for browser clients, access control and per-key limits on the routes that spend
// backend time or touch request state, the route modules, and the one error shape of the API (`{ error }` JSON, with
// the status and headers of Hono's HTTPException (worker/http-error.ts); a wire or offload validation error is a 400; every message capped by
// core's publicErrorMessage; anything unexpected a 500 with a fixed text, the details only logged).

import { Hono, type Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { requireApiKey } from './auth.js';
import { requireBackend } from './backend-configured.js';
import { corsPolicy } from './cors.js';
import { readConfig, type AppEnv } from './env.js';
import { renderHttpException, type ErrorBody } from './http-error.js';
import { inflightCap, rateLimit } from './limits.js';
import { discardUnreadBody } from './read-body.js';
import { OffloadError } from '../core/offload-validation.js';
import { INTERNAL_ERROR_MESSAGE, publicErrorMessage } from '../core/public-error.js';
import { WireError } from '../core/wire.js';
import { classifyRoutes } from './routes/classify.js';
import { healthRoutes } from './routes/health.js';
import { inferRoutes } from './routes/infer.js';
import { modelRoutes } from './routes/models.js';
import { openapiRoutes } from './routes/openapi.js';
import { planRoutes } from './routes/plan.js';
import { requestRoutes } from './routes/requests.js';

export const app = new Hono<AppEnv>();

app.use('*', corsPolicy);

// Keyed: everything that costs backend time (infer, classify, plan) or reads and changes request state. The catalogue (model
// list, manifests, model files, OpenAPI) and /healthz stay public: the model files are what every device downloads
// and runs, the same bytes are public static assets for the demo page, and they are cached as `public`. An edge
// without a backend URL refuses these (503) after the key check, so anonymous callers learn nothing about it.
for (const path of ['/v1/infer', '/v1/classify', '/v1/plan', '/v1/requests/*'])
  app.use(path, requireApiKey, requireBackend, rateLimit);
// A classification is an offload the edge makes for the client: it counts against the same in-flight cap.
for (const path of ['/v1/infer', '/v1/classify']) app.post(path, inflightCap);

const routes = app
  .route('/', inferRoutes)
  .route('/', classifyRoutes)
  .route('/', planRoutes)
  .route('/', requestRoutes)
  .route('/', modelRoutes)
  .route('/', healthRoutes)
  .route('/', openapiRoutes);

/** The routes' types, for Hono's typed client of the JSON routes (worker/api-client.ts). */
export type AppType = typeof routes;

/** Reads what is left of the request body before an error answer (read-body.ts says why). */
const discard = (c: Context<AppEnv>) => discardUnreadBody(c.req.raw, readConfig(c.env).bodyTimeoutMs);

app.notFound(async (c) => {
  await discard(c);
  const route = `${c.req.method} ${new URL(c.req.url).pathname}`;
  return c.json<ErrorBody>({ error: publicErrorMessage(`no route for ${route}`) }, 404);
});

app.onError(async (err, c) => {
  await discard(c);
  if (err instanceof HTTPException) return renderHttpException(c, err);
  if (err instanceof WireError || err instanceof OffloadError)
    return c.json<ErrorBody>({ error: publicErrorMessage(err.message) }, 400);
  console.error('unhandled error', err);
  return c.json<ErrorBody>({ error: INTERNAL_ERROR_MESSAGE }, 500);
});
