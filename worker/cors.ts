// CORS for browser clients on other origins: only the origins in CORS_ORIGINS (`*` = any; empty = same origin
// only, the demo page's case), the headers SpinnClient sends (the API key's `authorization` must be listed by name:
// a `*` in Access-Control-Allow-Headers does not cover it), and the response headers clients read. Preflights are
// answered here, before access control: browsers never send credentials on them.

import type { MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';
import { readConfig, type AppEnv } from './env.js';

const ALLOW_HEADERS = ['authorization', 'content-type', 'accept', 'if-none-match'];
/** Beyond the CORS-safelisted ones (content-type, content-length, cache-control, …). */
const EXPOSE_HEADERS = ['etag', 'retry-after', 'www-authenticate', 'server-timing'];

export const corsPolicy: MiddlewareHandler<AppEnv> = cors({
  origin: (origin, c) => {
    const allowed = readConfig(c.env).corsOrigins;
    if (allowed.includes('*')) return '*';
    return allowed.includes(origin) ? origin : null;
  },
  allowMethods: ['GET', 'POST', 'DELETE', 'OPTIONS'],
  allowHeaders: ALLOW_HEADERS,
  exposeHeaders: EXPOSE_HEADERS,
  maxAge: 86400,
});
