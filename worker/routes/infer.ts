// POST /v1/infer: the offload hop. Cheap checks run before the body is decoded (content type, size), then the wire
// decode and core's offload validation against the model (split, shape, codec, payload, a full decode of the
// tensor, finite values); only a fully valid offload reaches the request's Durable Object, which forwards a body
// re-encoded from the validated message (never the client's bytes) to the backend. A client's mistake is therefore
// always a 400 here, and a 502 only ever means the backend failed. The answer is a msgpack ResultMessage carrying
// the plan for the client's next request.

import { Hono } from 'hono';
import { validateOffload } from '../../core/offload-validation.js';
import { WIRE_CONTENT_TYPE, decodeOffload, encodeMessage } from '../../core/wire.js';
import { readConfig, type AppEnv } from '../env.js';
import { httpError } from '../http-error.js';
import { getManifest } from '../model-registry.js';
import { nextPlan } from '../next-plan.js';
import { runOffload } from '../offload-state.js';
import { hasMediaType, readBodyLimited } from '../read-body.js';

export const inferRoutes = new Hono<AppEnv>();

inferRoutes.post('/v1/infer', async (c) => {
  const config = readConfig(c.env);
  if (!hasMediaType(c.req.raw, WIRE_CONTENT_TYPE)) {
    throw httpError(
      415,
      `content-type must be ${WIRE_CONTENT_TYPE}, got ${JSON.stringify(c.req.header('content-type') ?? null)}`,
    );
  }
  const body = await readBodyLimited(c.req.raw, config.maxOffloadBytes, config.bodyTimeoutMs);
  if (body.byteLength === 0) throw httpError(400, 'empty body; expected a msgpack offload');
  // WireError and OffloadError are rendered as 400 by the app's error handler.
  const offload = decodeOffload(body);
  const manifest = await getManifest(c.env, config, offload.modelId);
  validateOffload(manifest, offload);

  const { httpStatus, result: answer, load } = await runOffload(c.env, c.var.principal.name, offload);
  const plan = nextPlan({ offload, result: answer, manifest, ...(load ? { load } : {}) });
  const result = { ...answer, ...(load ? { load } : {}), plan };
  return new Response(encodeMessage(result), {
    status: httpStatus,
    headers: { 'content-type': WIRE_CONTENT_TYPE },
  });
});
