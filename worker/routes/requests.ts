// GET and DELETE /v1/requests/:id: read a request's lifecycle and cancel it. Both go to the request's Durable
// Object, the single truth for the id; a read never creates state (an id never seen is a 404). An id belongs to the
// API key that first used it: for any other key it does not exist (404), so ids cannot be probed or cancelled
// across keys.

import { Hono } from 'hono';
import { validationMessage } from '../../core/public-error.js';
import { requestIdSchema } from '../../core/wire.js';
import type { AppEnv } from '../env.js';
import { httpError } from '../http-error.js';

function requestId(raw: string): string {
  const parsed = requestIdSchema.safeParse(raw);
  if (!parsed.success) throw httpError(400, validationMessage('request id', parsed.error.issues));
  return parsed.data;
}

const unknown = (id: string) => httpError(404, `request ${id} is unknown (never seen, or expired)`);

export const requestRoutes = new Hono<AppEnv>()
  .get('/v1/requests/:id', async (c) => {
    const id = requestId(c.req.param('id'));
    const stub = c.env.REQUEST_STATE.get(c.env.REQUEST_STATE.idFromName(id));
    const record = await stub.snapshot(c.var.principal.name);
    if (!record) throw unknown(id);
    return c.json(record);
  })

  .delete('/v1/requests/:id', async (c) => {
    const id = requestId(c.req.param('id'));
    const stub = c.env.REQUEST_STATE.get(c.env.REQUEST_STATE.idFromName(id));
    const reply = await stub.cancel(id, c.var.principal.name);
    if (!reply) throw unknown(id);
    return c.json(reply);
  });
