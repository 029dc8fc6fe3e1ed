// The worker's deliberate 4xx/5xx answers are Hono's own HTTPException, so routes and middleware just throw and the
// app's error handler renders the single error shape of the API: `{ "error": "<what was wrong>" }`. `httpError`
// adds the headers a status needs (`www-authenticate` on 401, `retry-after` on 429) the way Hono documents: as the
// exception's `res`, whose headers the error handler copies onto the JSON answer.

import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { publicErrorMessage } from '../core/public-error.js';

export interface ErrorBody {
  error: string;
}

/** An HTTPException with `message` as the answer's `error` and, optionally, headers for the answer. */
export function httpError(
  status: ContentfulStatusCode,
  message: string,
  headers?: Record<string, string>,
): HTTPException {
  return new HTTPException(status, {
    message,
    ...(headers ? { res: new Response(null, { status, headers }) } : {}),
  });
}

/** The API's error answer for an HTTPException: its status, its message (capped) and the headers of its `res`. */
export function renderHttpException(c: Context, err: HTTPException): Response {
  const headers: Record<string, string> = {};
  err.res?.headers.forEach((value, name) => {
    if (name !== 'content-type' && name !== 'content-length') headers[name] = value;
  });
  // Hono's own exceptions (a malformed request it refuses) may carry no message: the status then speaks.
  const message = err.message || `HTTP ${err.status}`;
  return c.json<ErrorBody>({ error: publicErrorMessage(message) }, err.status, headers);
}
