// The Hono application: CORS for browser clients, the route modules, and the one error shape of the API
// (`{ error }` JSON): an HttpError carries its status, a wire or offload validation error is a 400, every message is
// capped by core's publicErrorMessage, and anything unexpected is a 500 with a fixed text (details only logged).

import { Hono } from 'hono';
import { cors } from 'hono/cors';
import { OffloadError } from '../core/offload-validation.js';
import { INTERNAL_ERROR_MESSAGE, publicErrorMessage } from '../core/public-error.js';
import { WireError } from '../core/wire.js';
import { readConfig, type Env } from './env.js';
import { HttpError, type ErrorBody } from './http-error.js';
import { drainBody } from './read-body.js';
import { healthRoutes } from './routes/health.js';
import { inferRoutes } from './routes/infer.js';
import { modelRoutes } from './routes/models.js';
import { openapiRoutes } from './routes/openapi.js';
import { planRoutes } from './routes/plan.js';
import { requestRoutes } from './routes/requests.js';

export const app = new Hono<{ Bindings: Env }>();

app.use(
  '*',
  cors({
    origin: '*',
    allowMethods: ['GET', 'POST', 'DELETE', 'OPTIONS'],
    allowHeaders: ['content-type', 'if-none-match'],
    exposeHeaders: ['etag', 'content-length'],
    maxAge: 86400,
  }),
);

// An error answered before the request body was read leaves it on the connection, which workerd then resets; the
// client's next request on that pooled connection would be lost (seen by the hostile storm as ECONNRESET after a
// 415). Reading the rest (bounded by the offload limit) keeps the connection usable.
app.use('*', async (c, next) => {
  await next();
  if (c.res.status >= 400) await drainBody(c.req.raw, readConfig(c.env).maxOffloadBytes);
});

app.route('/', inferRoutes);
app.route('/', planRoutes);
app.route('/', requestRoutes);
app.route('/', modelRoutes);
app.route('/', healthRoutes);
app.route('/', openapiRoutes);

app.notFound((c) =>
  c.json<ErrorBody>({ error: `no route for ${c.req.method} ${new URL(c.req.url).pathname}` }, 404),
);

app.onError((err, c) => {
  if (err instanceof HttpError)
    return c.json<ErrorBody>({ error: publicErrorMessage(err.message) }, err.status);
  if (err instanceof WireError || err instanceof OffloadError)
    return c.json<ErrorBody>({ error: publicErrorMessage(err.message) }, 400);
  console.error('unhandled error', err);
  return c.json<ErrorBody>({ error: INTERNAL_ERROR_MESSAGE }, 500);
});
