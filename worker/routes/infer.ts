// POST /v1/infer: the offload hop. Cheap checks run before the body is decoded (content type, size), then the wire
// decode and the manifest checks; only a fully valid offload reaches the request's Durable Object, which calls the
// backend. The answer is a msgpack ResultMessage carrying the plan for the client's next request.

import { Hono } from 'hono';
import {
  WIRE_CONTENT_TYPE,
  WireError,
  decodeOffload,
  encodeMessage,
  type OffloadMessage,
} from '../../core/wire.js';
import { readConfig, type AppEnv } from '../env.js';
import { HttpError } from '../http-error.js';
import { getManifest } from '../model-registry.js';
import { nextPlan } from '../next-plan.js';
import { checkOffload } from '../offload-checks.js';
import { hasMediaType, readBodyLimited } from '../read-body.js';

export const inferRoutes = new Hono<AppEnv>();

inferRoutes.post('/v1/infer', async (c) => {
  const config = readConfig(c.env);
  if (!hasMediaType(c.req.raw, WIRE_CONTENT_TYPE)) {
    throw new HttpError(
      415,
      `content-type must be ${WIRE_CONTENT_TYPE}, got ${JSON.stringify(c.req.header('content-type') ?? null)}`,
    );
  }
  const body = await readBodyLimited(c.req.raw, config.maxOffloadBytes, config.bodyTimeoutMs);
  if (body.byteLength === 0) throw new HttpError(400, 'empty body; expected a msgpack offload');
  let offload: OffloadMessage;
  try {
    offload = decodeOffload(body);
  } catch (e) {
    if (e instanceof WireError) throw new HttpError(400, e.message);
    throw e;
  }
  const manifest = await getManifest(c.env, config, offload.modelId);
  checkOffload(manifest, offload);

  const stub = c.env.REQUEST_STATE.get(c.env.REQUEST_STATE.idFromName(offload.requestId));
  const reply = await stub.offload({
    requestId: offload.requestId,
    owner: c.var.principal.name,
    modelId: offload.modelId,
    split: offload.split,
    threshold: offload.threshold,
    body,
  });
  if (reply.kind === 'conflict') throw new HttpError(409, reply.error);
  const load = reply.load ?? reply.result.load;
  const plan = nextPlan({ offload, result: reply.result, manifest, ...(load ? { load } : {}) });
  const result = { ...reply.result, ...(load ? { load } : {}), plan };
  return new Response(encodeMessage(result), {
    status: reply.httpStatus,
    headers: { 'content-type': WIRE_CONTENT_TYPE },
  });
});
