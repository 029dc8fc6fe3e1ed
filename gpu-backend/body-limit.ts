// The request-size limit of the backend's POST routes. Hono's bodyLimit reads `c.req.raw.body`, which makes
// @hono/node-server build a full web Request (undici Request, AbortController, a ReadableStream over the socket) for
// every request: profiled at about a third of the main thread's time per offload under load. A body with a
// Content-Length is judged by that header alone, so the body is then read on node-server's direct path; only a
// chunked body (no length) goes through Hono's streaming check.

import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';

export function limitBody(maxBytes: number, onTooLarge: (c: Context) => Response): MiddlewareHandler {
  const streaming = bodyLimit({ maxSize: maxBytes, onError: onTooLarge });
  return async (c, next) => {
    const length = c.req.header('content-length');
    if (length === undefined || c.req.header('transfer-encoding') !== undefined) return streaming(c, next);
    const n = Number(length);
    if (!Number.isInteger(n) || n < 0) return onTooLarge(c); // node's parser rejects these before us; be safe
    if (n > maxBytes) return onTooLarge(c);
    await next();
  };
}
