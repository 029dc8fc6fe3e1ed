// One error type for every 4xx/5xx the worker answers on purpose, so routes and middleware just throw and the app's
// error handler renders the single error shape of the API: `{ "error": "<what was wrong>" }`, plus any headers the
// status needs (`www-authenticate` on 401, `retry-after` on 429).

import type { ContentfulStatusCode } from 'hono/utils/http-status';

export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    readonly status: ContentfulStatusCode,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export interface ErrorBody {
  error: string;
}
