// The worker's side of the backend's internal API (POST /infer, POST /cancel/:id, GET /health): bearer-token auth,
// timeouts, and every failure mode mapped to a value instead of an exception, so the request state machine can
// record exactly what happened (answered, cancelled by us, timed out, unreachable, answered garbage).

import { WIRE_CONTENT_TYPE, WireError, decodeResult, type ResultMessage } from '../core/wire.js';
import type { WorkerConfig } from './env.js';

export type InferOutcome =
  | { kind: 'result'; result: ResultMessage; httpStatus: number }
  /** Our own AbortController fired because the request was cancelled. */
  | { kind: 'aborted' }
  | { kind: 'timeout'; error: string }
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
const HEALTH_TIMEOUT_MS = 1_500;

function headers(config: WorkerConfig, extra: Record<string, string> = {}): Headers {
  const h = new Headers(extra);
  if (config.backendToken) h.set('authorization', `Bearer ${config.backendToken}`);
  return h;
}

/** The backend's URL for `path`, or null when BACKEND_URL is missing (config.backendUrlProblem says why). */
function endpoint(config: WorkerConfig, path: string): string | null {
  return config.backendUrl === null ? null : `${config.backendUrl}${path}`;
}

function describe(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

/**
 * Forwards the offload bytes to the backend. `signal` is the caller's cancel signal; the timeout is added here.
 */
export async function backendInfer(
  config: WorkerConfig,
  body: Uint8Array,
  signal: AbortSignal,
): Promise<InferOutcome> {
  const url = endpoint(config, '/infer');
  if (url === null) return { kind: 'unreachable', error: config.backendUrlProblem! };
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(), config.backendTimeoutMs);
  const both = AbortSignal.any([signal, timeout.signal]);
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: headers(config, { 'content-type': WIRE_CONTENT_TYPE, accept: WIRE_CONTENT_TYPE }),
      body,
      signal: both,
    });
    const bytes = new Uint8Array(await res.arrayBuffer());
    const type = res.headers.get('content-type') ?? '';
    if (!type.toLowerCase().startsWith(WIRE_CONTENT_TYPE)) {
      const text = new TextDecoder().decode(bytes.subarray(0, 500));
      return {
        kind: 'bad-response',
        httpStatus: res.status,
        error: `backend answered HTTP ${res.status} (${type || 'no content type'}): ${text}`,
      };
    }
    try {
      return { kind: 'result', result: decodeResult(bytes), httpStatus: res.status };
    } catch (e) {
      const msg = e instanceof WireError ? e.message : describe(e);
      return { kind: 'bad-response', httpStatus: res.status, error: `backend result unreadable: ${msg}` };
    }
  } catch (e) {
    if (signal.aborted) return { kind: 'aborted' };
    if (timeout.signal.aborted) {
      return { kind: 'timeout', error: `backend did not answer within ${config.backendTimeoutMs} ms` };
    }
    return { kind: 'unreachable', error: `backend unreachable at ${config.backendUrl}: ${describe(e)}` };
  } finally {
    clearTimeout(timer);
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

export async function backendCancel(config: WorkerConfig, requestId: string): Promise<BackendCancelAnswer> {
  const url = endpoint(config, `/cancel/${encodeURIComponent(requestId)}`);
  if (url === null) return { ok: false, error: `backend cancel failed: ${config.backendUrlProblem}` };
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: headers(config, { accept: 'application/json' }),
      signal: AbortSignal.timeout(Math.min(CANCEL_TIMEOUT_MS, config.backendTimeoutMs)),
    });
    return { ok: res.ok, httpStatus: res.status, body: await readJsonOrText(res) };
  } catch (e) {
    return { ok: false, error: `backend cancel failed: ${describe(e)}` };
  }
}

export async function backendHealth(config: WorkerConfig): Promise<BackendHealth> {
  const started = Date.now();
  const url = endpoint(config, '/health');
  if (url === null) return { reachable: false, error: config.backendUrlProblem!, ms: 0 };
  try {
    const res = await fetch(url, {
      headers: headers(config, { accept: 'application/json' }),
      signal: AbortSignal.timeout(HEALTH_TIMEOUT_MS),
    });
    const body = await readJsonOrText(res);
    return { reachable: res.ok, httpStatus: res.status, body, ms: Date.now() - started };
  } catch (e) {
    return { reachable: false, error: describe(e), ms: Date.now() - started };
  }
}
