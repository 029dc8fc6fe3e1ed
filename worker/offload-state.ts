// Runs one validated offload through its request's RequestState Durable Object (the single truth for the id: a
// cancel that came first wins, a reused id is refused, the backend call is cancellable) and returns the result with
// the backend's load. Shared by POST /v1/infer (a client's activation) and POST /v1/classify (the edge's own split-0
// offload of an image), so both paths keep the same lifecycle, records and cancel rules.

import type { BackendLoad } from '../core/scheduler-context.js';
import { encodeMessage, type OffloadMessage, type ResultMessage } from '../core/wire.js';
import type { Env } from './env.js';
import { httpError } from './http-error.js';

export interface OffloadAnswer {
  /** 200, or 502/504 when the backend failed or timed out (the result then says `failed` and why). */
  httpStatus: 200 | 502 | 504;
  result: ResultMessage;
  load?: BackendLoad;
}

/** Sends `offload` (already validated) to its Durable Object on behalf of the key `owner`; a reused id is a 409. */
export async function runOffload(env: Env, owner: string, offload: OffloadMessage): Promise<OffloadAnswer> {
  const stub = env.REQUEST_STATE.get(env.REQUEST_STATE.idFromName(offload.requestId));
  const reply = await stub.offload({
    requestId: offload.requestId,
    owner,
    modelId: offload.modelId,
    split: offload.split,
    threshold: offload.threshold,
    body: encodeMessage(offload),
  });
  if (reply.kind === 'conflict') throw httpError(409, reply.error);
  const load = reply.load ?? reply.result.load;
  return { httpStatus: reply.httpStatus, result: reply.result, ...(load ? { load } : {}) };
}
