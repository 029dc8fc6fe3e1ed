// Worker entry point (wrangler.toml `main`): the Hono app as the fetch handler, and the Durable Object class the
// REQUEST_STATE binding names.

import { app } from './app.js';
import type { Env } from './env.js';

export { RequestShard } from './request-state.js';

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Env>;
