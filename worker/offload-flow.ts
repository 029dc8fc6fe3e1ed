// The offload's critical path at the edge: the backend call starts as soon as the offload is valid, and the
// request's Durable Object (the single truth for the id) is consulted beside it, never before it:
//   1. the backend call through the router (offload-router.ts: the least-loaded healthy backend, one retry
//      elsewhere when the first never took the request);
//   2. at the same time `claim` in the RequestState object, naming the backend the router chose (a failover names
//      the next one with `dispatched`), so a cancel reaches the backend that holds the request; a reused id (409)
//      or a cancel that came first
//      (`cancelled`) aborts the backend call, and the answer waits for this verdict (it is in long before the
//      backend answers);
//   3. the claim hands the object a callback: a cancel while the backend works calls it and the fetch is aborted
//      at once;
//   4. the answer goes out; the outcome is recorded in the object afterwards (`finish`, under waitUntil).
// So an offload costs one backend round trip plus the edge's own CPU work, not a Durable Object round trip and a
// storage flush before it. The backend refuses an id it has seen cancelled, which closes the window where an
// offload reaches it before the claim says "cancel came first".

import { encodeMessage, type OffloadMessage, type ResultMessage } from '../core/wire.js';
import { backendCancel, type BackendRef, type InferOutcome } from './backend-client.js';
import type { Env, WorkerConfig } from './env.js';
import { routeOffload, type RoutedOutcome } from './offload-router.js';
import { httpError } from './http-error.js';
import { EMPTY_FIELDS, pickTimes, resultFields, type ResultFields } from './request-record.js';
import type { FinishInput } from './request-state.js';
import { requestStateFor } from './request-state-stub.js';

export interface OffloadAnswer {
  httpStatus: 200 | 502 | 504;
  result: ResultMessage;
  /** Wall time of the backend call as the edge saw it, ms (Server-Timing). */
  backendMs: number;
  /** Wall time from sending the claim to the object's verdict, ms (Server-Timing; beside the backend call). */
  claimMs: number;
}

/** What a record keeps of a backend: its name, URL and kind (not its weight or models). */
function refOf(b: BackendRef): BackendRef {
  return { name: b.name, url: b.url, kind: b.kind };
}

function failedOrCancelled(
  offload: OffloadMessage,
  status: 'failed' | 'cancelled',
  fields: ResultFields | null,
  error?: string,
): ResultMessage {
  return {
    v: offload.v,
    requestId: offload.requestId,
    status,
    ...EMPTY_FIELDS,
    ...pickTimes(fields),
    ...(error ? { error } : {}),
  };
}

/** The answer and the record update for a backend outcome (the DO said nothing about a cancel). */
function settle(
  offload: OffloadMessage,
  outcome: InferOutcome,
): { httpStatus: 200 | 502 | 504; result: ResultMessage; finish: FinishInput } {
  switch (outcome.kind) {
    case 'result': {
      const r = outcome.result;
      const fields = resultFields(r);
      if (r.status !== 'failed')
        return { httpStatus: 200, result: r, finish: { status: r.status, result: fields } };
      const error = r.error ?? `backend failed the request (HTTP ${outcome.httpStatus})`;
      return {
        httpStatus: 502,
        result: { ...r, error },
        finish: { status: 'failed', result: fields, error },
      };
    }
    case 'timeout':
      return {
        httpStatus: 504,
        result: failedOrCancelled(offload, 'failed', null, outcome.error),
        finish: { status: 'failed', result: null, error: outcome.error },
      };
    case 'unreachable':
    case 'bad-response':
      return {
        httpStatus: 502,
        result: failedOrCancelled(offload, 'failed', null, outcome.error),
        finish: { status: 'failed', result: null, error: outcome.error },
      };
    case 'aborted': {
      // Only the cancel wake-up aborts this fetch; reaching here without one means the object went away.
      const error = 'backend call aborted';
      return {
        httpStatus: 502,
        result: failedOrCancelled(offload, 'failed', null, error),
        finish: { status: 'failed', result: null, error },
      };
    }
  }
}

export async function runOffload(
  env: Env,
  ctx: Pick<ExecutionContext, 'waitUntil'>,
  config: WorkerConfig,
  offload: OffloadMessage,
  owner: string,
): Promise<OffloadAnswer> {
  const { requestId, modelId, split, threshold } = offload;
  // The backend gets a body re-encoded from the validated message, never the client's bytes.
  const body = encodeMessage(offload);
  const controller = new AbortController();
  const stub = requestStateFor(env, config, requestId);
  // The router picks the first backend synchronously (before its first await), so the claim can name it; a later
  // pick (failover) is told to the object with `dispatched`.
  let first: BackendRef | null = null;
  let claimSent = false;
  const t0 = Date.now();
  const call = routeOffload(env, config, { requestId, modelId, split, threshold, body }, controller.signal, {
    onDispatch: (b) => {
      if (!claimSent) first = refOf(b);
      else ctx.waitUntil(stub.dispatched(requestId, refOf(b)));
    },
    waitUntil: (work) => ctx.waitUntil(work),
  }).then((routed) => ({ routed, ms: Date.now() - t0 }));
  claimSent = true;
  // A cancel that reaches the object while the backend works calls this back (an RPC into this request): the fetch
  // is aborted at once and the answer is `cancelled`; the object tells the backend once this has returned.
  let cancelled = false;
  const cancelRoute = () => {
    cancelled = true;
    controller.abort();
  };
  const claim = await stub.claim(
    { requestId, owner, modelId, split, threshold, backend: first },
    cancelRoute,
  );
  const claimMs = Date.now() - t0;
  if (claim.kind !== 'claimed') {
    controller.abort();
    if (claim.kind === 'conflict') throw httpError(409, claim.error);
    return { httpStatus: 200, result: claim.result, backendMs: 0, claimMs };
  }
  const { routed, ms } = await call;
  const outcome = routed.outcome;
  if (cancelled) {
    // A cancel reached the object while the backend worked: it wins whatever the backend said.
    const fields = outcome.kind === 'result' ? resultFields(outcome.result) : null;
    ctx.waitUntil(stub.finish(requestId, { status: 'cancelled', result: fields }));
    return {
      httpStatus: 200,
      result: failedOrCancelled(offload, 'cancelled', fields),
      backendMs: ms,
      claimMs,
    };
  }
  const s = settle(offload, outcome);
  ctx.waitUntil(stub.finish(requestId, s.finish));
  if (outcome.kind === 'timeout')
    stopAbandoned(ctx, config, routed, requestId, (answer) =>
      stub.finish(requestId, { ...s.finish, backendCancel: answer }),
    );
  return { httpStatus: s.httpStatus, result: s.result, backendMs: ms, claimMs };
}

/** Our fetch timed out, but the backend may still be computing an answer nobody will read: stop it there. */
function stopAbandoned(
  ctx: Pick<ExecutionContext, 'waitUntil'>,
  config: WorkerConfig,
  routed: RoutedOutcome,
  requestId: string,
  record: (answer: Awaited<ReturnType<typeof backendCancel>>) => Promise<void>,
): void {
  if (!routed.backend) return;
  ctx.waitUntil(backendCancel(config, routed.backend, requestId).then(record));
}
