// The worker's side of a SPINN backend's internal API (POST /infer, POST /cancel/:id, GET /health) for one backend
// of the fleet: bearer-token auth, timeouts, and every failure mode mapped to a value instead of an exception, so
// the router and the request state machine can record exactly what happened (answered, cancelled by us, timed out,
// unreachable, answered garbage). Which backend to call is the router's choice (offload-router.ts).

import { WIRE_CONTENT_TYPE, WireError, decodeResult, type ResultMessage } from '../core/wire.js';
import type { BackendSpec } from './backends-config.js';
import type { WorkerConfig } from './env.js';

export type InferOutcome =
  | { kind: 'result'; result: ResultMessage; httpStatus: number }
  /** Our own AbortController fired because the request was cancelled. */
  | { kind: 'aborted' }
  | { kind: 'timeout'; error: string }
  /** No HTTP answer at all: connection refused, reset or closed, DNS. */
  | { kind: 'unreachable'; error: string }
  | { kind: 'bad-response'; error: string; httpStatus: number };

/** What the backend said to a cancel, or why it could not be asked. Plain JSON, returned to the client. */
export interface BackendCancelAnswer {
  ok: boolean;
  httpStatus?: number;
  body?: unknown;
  error?: string;
  skipped?: string;
}

export interface BackendHealth {
  reachable: boolean;
  httpStatus?: number;
  body?: unknown;
  error?: string;
  ms: number;
}

const CANCEL_TIMEOUT_MS = 3_000;
export const HEALTH_TIMEOUT_MS = 1_500;

/** The bearer token for a backend: BACKEND_TOKEN for SPINN backends, OIP_TOKEN for OIP servers. */
export function backendHeaders(
  config: WorkerConfig,
  backend: BackendRef,
  extra: Record<string, string> = {},
): Headers {
  const h = new Headers(extra);
  const token = backend.kind === 'oip' ? config.oipToken : config.backendToken;
  if (token) h.set('authorization', `Bearer ${token}`);
  return h;
}

export function describeError(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

/** Where a call goes: what a request record keeps of the backend that holds it. */
export type BackendRef = Pick<BackendSpec, 'name' | 'url' | 'kind'>;

export type CallFailure = Extract<InferOutcome, { kind: 'aborted' | 'timeout' | 'unreachable' }>;

/**
 * A fetch whose answer (headers and body) must arrive within `timeoutMs`, stoppable by `signal` (the caller's
 * cancel). Resolves to the response and its bytes, or to why there is none.
 */
export async function fetchWithin(
  backend: BackendRef,
  path: string,
  init: RequestInit,
  signal: AbortSignal,
  timeoutMs: number,
): Promise<{ res: Response; bytes: Uint8Array } | CallFailure> {
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(), timeoutMs);
  try {
    const res = await fetch(`${backend.url}${path}`, {
      ...init,
      signal: AbortSignal.any([signal, timeout.signal]),
    });
    return { res, bytes: new Uint8Array(await res.arrayBuffer()) };
  } catch (e) {
    if (signal.aborted) return { kind: 'aborted' };
    if (timeout.signal.aborted)
      return { kind: 'timeout', error: `backend did not answer within ${timeoutMs} ms (${backend.name})` };
    return { kind: 'unreachable', error: `backend unreachable (${backend.name}): ${describeError(e)}` };
  } finally {
    clearTimeout(timer);
  }
}

function snippet(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes.subarray(0, 500));
}

/** Forwards the offload bytes to a SPINN backend. `signal` is the caller's cancel signal. */
export async function backendInfer(
  config: WorkerConfig,
  backend: BackendSpec,
  body: Uint8Array,
  signal: AbortSignal,
): Promise<InferOutcome> {
  const headers = backendHeaders(config, backend, {
    'content-type': WIRE_CONTENT_TYPE,
    accept: WIRE_CONTENT_TYPE,
  });
  const got = await fetchWithin(
    backend,
    '/infer',
    { method: 'POST', headers, body },
    signal,
    config.backendTimeoutMs,
  );
  if ('kind' in got) return got;
  const { res, bytes } = got;
  const type = res.headers.get('content-type') ?? '';
  if (!type.toLowerCase().startsWith(WIRE_CONTENT_TYPE)) {
    return {
      kind: 'bad-response',
      httpStatus: res.status,
      error: `backend answered HTTP ${res.status} (${type || 'no content type'}) from ${backend.name}: ${snippet(bytes)}`,
    };
  }
  try {
    return { kind: 'result', result: decodeResult(bytes), httpStatus: res.status };
  } catch (e) {
    const msg = e instanceof WireError ? e.message : describeError(e);
    return {
      kind: 'bad-response',
      httpStatus: res.status,
      error: `backend result unreadable (${backend.name}): ${msg}`,
    };
  }
}

async function readJsonOrText(res: Response): Promise<unknown> {
  const text = await res.text();
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text.slice(0, 2000);
  }
}

export async function backendCancel(
  config: WorkerConfig,
  backend: BackendRef,
  requestId: string,
): Promise<BackendCancelAnswer> {
  if (backend.kind === 'oip') {
    return {
      ok: true,
      skipped: `backend ${backend.name} speaks the Open Inference Protocol, which has no cancel; the edge closed its call`,
    };
  }
  try {
    const res = await fetch(`${backend.url}/cancel/${encodeURIComponent(requestId)}`, {
      method: 'POST',
      headers: backendHeaders(config, backend, { accept: 'application/json' }),
      signal: AbortSignal.timeout(Math.min(CANCEL_TIMEOUT_MS, config.backendTimeoutMs)),
    });
    return { ok: res.ok, httpStatus: res.status, body: await readJsonOrText(res) };
  } catch (e) {
    return { ok: false, error: `backend cancel failed (${backend.name}): ${describeError(e)}` };
  }
}

/** A SPINN backend's GET /health, or an OIP server's GET /v2/health/ready. */
export async function backendHealth(config: WorkerConfig, backend: BackendSpec): Promise<BackendHealth> {
  const started = Date.now();
  const path = backend.kind === 'oip' ? '/v2/health/ready' : '/health';
  try {
    const res = await fetch(`${backend.url}${path}`, {
      headers: backendHeaders(config, backend, { accept: 'application/json' }),
      signal: AbortSignal.timeout(HEALTH_TIMEOUT_MS),
    });
    const body = await readJsonOrText(res);
    return { reachable: res.ok, httpStatus: res.status, body, ms: Date.now() - started };
  } catch (e) {
    return { reachable: false, error: describeError(e), ms: Date.now() - started };
  }
}
