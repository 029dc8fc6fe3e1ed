// POST /v1/infer: the offload hop. Cheap checks run before the body is decoded (content type, size), then the wire
// decode and core's offload validation against the model (split, shape, codec, payload, a full decode of the
// tensor, finite values); only a fully valid offload reaches the offload path (worker/offload-flow.ts), which sends
// a body re-encoded from the validated message (never the client's bytes) to the backend while the request's Durable
// Object claims the id. A client's mistake is therefore always a 400 here, and a 502 only ever means the backend
// failed. The answer is a small msgpack ResultMessage (protocol 3: the next plan only when it changed) with a
// Server-Timing header.

import { Hono } from 'hono';
import { checkOffload } from '../../core/offload-validation.js';
import { WIRE_CONTENT_TYPE, decodeOffload, encodeMessage, type ResultMessage } from '../../core/wire.js';
import { readConfig, type AppEnv } from '../env.js';
import { httpError } from '../http-error.js';
import { getManifest } from '../model-registry.js';
import { nextPlan, planForResult } from '../next-plan.js';
import { runOffload, type OffloadAnswer } from '../offload-flow.js';
import { hasMediaType, readBodyLimited } from '../read-body.js';

export const inferRoutes = new Hono<AppEnv>();

const ms = (x: number) => Math.max(0, Math.round(x * 100) / 100);

/**
 * Where the time of an offload went, as a `Server-Timing` header (shown by browsers' developer tools, read by the
 * demo page): the edge's own share (the route's time minus the backend call), the backend call as the edge saw it,
 * the Durable Object's claim (beside the backend call, so only its excess over `backend` delays the answer), and the
 * backend's queue and compute as its result reports them. workerd's clock advances only on I/O, so the
 * edge's share is its waiting (request state, body), not its CPU time.
 */
function serverTiming(totalMs: number, answer: OffloadAnswer): string {
  const r = answer.result;
  return [
    `edge;dur=${ms(totalMs - answer.backendMs)}`,
    `backend;dur=${ms(answer.backendMs)}`,
    `claim;dur=${ms(answer.claimMs)}`,
    `queue;dur=${ms(r.queueMs)}`,
    `compute;dur=${ms(r.serverMs)}`,
  ].join(', ');
}

inferRoutes.post('/v1/infer', async (c) => {
  const started = Date.now();
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
  checkOffload(manifest, offload);

  const answer = await runOffload(c.env, c.executionCtx, config, offload, c.var.principal.name);
  const { load, requestId: _id, ...answered } = answer.result;
  const plan = planForResult(
    offload,
    nextPlan({ offload, result: answer.result, manifest, ...(load ? { load } : {}) }),
  );
  // Protocol 3's small result: the plan only when it changed, the load only on debug, no request id.
  const result: ResultMessage = {
    ...answered,
    ...(plan ? { plan } : {}),
    ...(offload.debug && load ? { load } : {}),
  };
  return new Response(encodeMessage(result), {
    status: answer.httpStatus,
    headers: {
      'content-type': WIRE_CONTENT_TYPE,
      'server-timing': serverTiming(Date.now() - started, answer),
    },
  });
});
