// GET and DELETE /v1/requests/:id: read a request's lifecycle and cancel it. Both go to the Durable Object of the
// id's shard (worker/request-shard.ts), the single truth for the id; a read never creates state (an id never seen is
// a 404). An id belongs to the API key that first used it: for any other key it does not exist (404), so ids cannot
// be probed or cancelled across keys.

import { Hono } from 'hono';
import { validationMessage } from '../../core/public-error.js';
import { requestIdSchema } from '../../core/wire.js';
import { readConfig, type AppEnv } from '../env.js';
import { requestStateFor } from '../request-state-stub.js';
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
    const record = await requestStateFor(c.env, readConfig(c.env), id).snapshot(id, c.var.principal.name);
    if (!record) throw unknown(id);
    return c.json(record);
  })

  .delete('/v1/requests/:id', async (c) => {
    const id = requestId(c.req.param('id'));
    const reply = await requestStateFor(c.env, readConfig(c.env), id).cancel(id, c.var.principal.name);
    if (!reply) throw unknown(id);
    return c.json(reply);
  });
