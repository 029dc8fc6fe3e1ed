// The client's two HTTP calls to the edge during a request: POST the offload (msgpack) and, when the device no
// longer needs the answer, DELETE the request. Neither ever rejects: every network, HTTP or protocol failure is
// returned as a value, because the caller's answer to all of them is the same — finish on the device.

import type { ResultMessage } from '../core/wire.js';
import { WIRE_CONTENT_TYPE } from '../core/wire-envelope.js';
import { decodeResult } from './checks/wire.js';

/** Why an offload produced no usable result. */
export type OffloadFailure =
  /** `offloadTimeoutMs` passed without an answer; the fetch was aborted. */
  | 'timeout'
  /** The client aborted it (the local run answered first). */
  | 'aborted'
  /** The fetch itself failed: connection refused or reset, DNS, CORS. */
  | 'network'
  /** The edge answered a non-2xx status without a result body. */
  | 'http'
  /** The body was not a valid result for this request. */
  | 'protocol'
  /** Never sent: the offload broke core's offload rules (core/offload-validation.ts), so the edge would refuse it. */
  | 'invalid';

export type OffloadOutcome =
  | {
      kind: 'result';
      message: ResultMessage;
      httpStatus: number;
      /** Request sent → response body read, ms. */
      roundTripMs: number;
    }
  | { kind: 'error'; reason: OffloadFailure; error: string; httpStatus?: number; elapsedMs: number };

export interface OffloadRequest {
  /** Full URL of `POST /v1/infer`. */
  url: string;
  /** Encoded offload message. */
  body: Uint8Array;
  /** Request id inside `body`; a result for another id is a protocol error. */
  requestId: string;
  /** Number of classes and exits of the model, to reject out-of-range answers. */
  classes: number;
  exits: number;
  fetch: typeof fetch;
  headers?: Record<string, string>;
  timeoutMs: number;
  now: () => number;
}

export interface OffloadCall {
  /** Settles once: with the result, or with the failure. Never rejects. */
  readonly outcome: Promise<OffloadOutcome>;
  /** Aborts the fetch (outcome becomes `aborted` unless already settled). */
  abort(): void;
}

function checkResult(m: ResultMessage, r: OffloadRequest): string | undefined {
  // Protocol 3: the edge omits the id (the exchange pairs them); one that is there must match.
  if (m.requestId !== undefined && m.requestId !== r.requestId)
    return `result is for request ${m.requestId}, sent ${r.requestId}`;
  if (m.status !== 'done') return undefined;
  if (m.label === null || m.label >= r.classes) return `done result has label ${String(m.label)}`;
  if (m.exit === null || m.exit >= r.exits) return `done result has exit ${String(m.exit)}`;
  if (m.confidence === null) return 'done result has no confidence';
  return undefined;
}

/** An error's message with its cause chain (fetch implementations hide the socket error in `cause`). */
export function describeError(e: unknown): string {
  const parts: string[] = [];
  for (
    let c: unknown = e;
    c !== undefined && c !== null && parts.length < 4;
    c = (c as { cause?: unknown }).cause
  ) {
    const code = (c as { code?: unknown }).code;
    parts.push(`${(c as Error).message ?? String(c)}${typeof code === 'string' ? ` [${code}]` : ''}`);
    if (typeof c !== 'object') break;
  }
  return parts.join(' <- ');
}

/** An offload that is not sent, already failed with `invalid`: the device finishes the request alone. */
export function refusedOffload(error: string): OffloadCall {
  return {
    outcome: Promise.resolve({ kind: 'error', reason: 'invalid', error, elapsedMs: 0 }),
    abort: () => {},
  };
}

/** Starts `POST /v1/infer` with a timeout; see OffloadCall. */
export function startOffload(r: OffloadRequest): OffloadCall {
  const controller = new AbortController();
  let why: 'timeout' | 'aborted' | undefined;
  const abort = (reason: 'timeout' | 'aborted') => {
    if (why) return;
    why = reason;
    controller.abort();
  };
  const t0 = r.now();
  const timer = setTimeout(() => abort('timeout'), r.timeoutMs);
  const fail = (reason: OffloadFailure, error: string, httpStatus?: number): OffloadOutcome => ({
    kind: 'error',
    reason: why ?? reason,
    error:
      why === 'timeout'
        ? `no answer within ${r.timeoutMs} ms`
        : why === 'aborted'
          ? 'aborted by client'
          : error,
    ...(httpStatus !== undefined ? { httpStatus } : {}),
    elapsedMs: r.now() - t0,
  });

  const run = async (): Promise<OffloadOutcome> => {
    let res: Response;
    let body: Uint8Array;
    try {
      res = await r.fetch(r.url, {
        method: 'POST',
        headers: { ...r.headers, 'content-type': WIRE_CONTENT_TYPE, accept: WIRE_CONTENT_TYPE },
        body: r.body as Uint8Array<ArrayBuffer>,
        signal: controller.signal,
      });
      body = new Uint8Array(await res.arrayBuffer());
    } catch (e) {
      return fail('network', `POST ${r.url} failed: ${describeError(e)}`);
    }
    if (why) return fail('aborted', '');
    const roundTripMs = r.now() - t0;
    const isWire = (res.headers.get('content-type') ?? '').startsWith(WIRE_CONTENT_TYPE);
    if (!isWire || body.byteLength === 0) {
      const text = new TextDecoder().decode(body.subarray(0, 300));
      return res.ok
        ? fail('protocol', `edge answered ${res.status} without a msgpack result`, res.status)
        : fail('http', `edge answered HTTP ${res.status}: ${text}`, res.status);
    }
    let message: ResultMessage;
    try {
      message = decodeResult(body);
    } catch (e) {
      return fail(
        res.ok ? 'protocol' : 'http',
        `edge answered ${res.status}: ${(e as Error).message}`,
        res.status,
      );
    }
    const problem = checkResult(message, r);
    if (problem) return fail('protocol', problem, res.status);
    return { kind: 'result', message, httpStatus: res.status, roundTripMs };
  };

  const outcome = run().finally(() => clearTimeout(timer));
  return { outcome, abort: () => abort('aborted') };
}

export interface CancelRequest {
  /** Full URL of `DELETE /v1/requests/:id`. */
  url: string;
  fetch: typeof fetch;
  headers?: Record<string, string>;
  timeoutMs: number;
}

/** What a cancel achieved: the HTTP status, or why none came back. */
export type CancelOutcome =
  { ok: true; httpStatus: number } | { ok: false; httpStatus?: number; error: string };

/** Sends `DELETE /v1/requests/:id`. Never rejects; gives up after `timeoutMs`. */
export async function sendCancel(r: CancelRequest): Promise<CancelOutcome> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), r.timeoutMs);
  try {
    const res = await r.fetch(r.url, { method: 'DELETE', headers: r.headers, signal: controller.signal });
    await res.arrayBuffer().catch(() => undefined);
    return res.ok
      ? { ok: true, httpStatus: res.status }
      : { ok: false, httpStatus: res.status, error: `HTTP ${res.status}` };
  } catch (e) {
    return {
      ok: false,
      error: controller.signal.aborted ? `no answer within ${r.timeoutMs} ms` : (e as Error).message,
    };
  } finally {
    clearTimeout(timer);
  }
}
