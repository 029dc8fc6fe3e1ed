// Sends one storm request and judges the answer by the rules every route of both services must keep: no 5xx, an
// answer within the deadline (else it is a hang), and every error a JSON `{error}` (or a msgpack result) whose text
// is short and leaks nothing internal (no stack frames, no paths, no "internal error").

import { MAX_ERROR_CHARS } from '../../../core/public-error.js';
import { WIRE_CONTENT_TYPE, decodeResult } from '../../../core/wire.js';
import type { StormRequest } from './storm-inputs.js';

export interface Endpoints {
  edge: string;
  backend: string;
  backendToken: string;
  /** Headers every edge request carries (an API key once the edge requires one). */
  edgeHeaders: Record<string, string>;
}

export interface Verdict {
  status: number | 'hang' | 'network';
  /** What broke a rule, or null. */
  problem: string | null;
}

/** An answer never takes this long; one that does counts as a hang. */
export const HANG_MS = 30_000;

const LEAKS = /\n\s+at |node_modules|\/work\/|\/home\/|internal error|TypeError|RangeError|ReferenceError/;

function urlOf(e: Endpoints, r: StormRequest): string {
  return `${r.target === 'edge' ? e.edge : e.backend}${r.path}`;
}

/** Error bodies must be JSON {error} (or a msgpack result for the edge's infer), short, and leak nothing. */
function judgeBody(r: StormRequest, status: number, type: string, body: Uint8Array): string | null {
  if (status < 400 || r.method === 'HEAD') return null;
  // Outside the API the edge serves static assets; their 404s are the platform's, not ours.
  const api = r.target === 'backend' || r.path.startsWith('/v1/') || r.path.startsWith('/healthz');
  if (!api) return null;
  let error: unknown;
  if (type.startsWith(WIRE_CONTENT_TYPE)) {
    try {
      error = decodeResult(body).error;
    } catch (e) {
      return `unreadable msgpack error body: ${(e as Error).message}`;
    }
  } else if (type.startsWith('application/json')) {
    try {
      error = (JSON.parse(new TextDecoder().decode(body)) as { error?: unknown }).error;
    } catch {
      return 'error body is not JSON';
    }
  } else return `error answered as ${JSON.stringify(type)}, not JSON or msgpack`;
  if (typeof error !== 'string' || error.length === 0) return 'error body has no error message';
  if (error.length > MAX_ERROR_CHARS) return `error message of ${error.length} characters`;
  if (LEAKS.test(error)) return `error message leaks internals: ${error.slice(0, 200)}`;
  return null;
}

export async function send(e: Endpoints, r: StormRequest): Promise<Verdict> {
  const headers: Record<string, string> = { ...r.headers };
  if (r.target === 'edge') Object.assign(headers, e.edgeHeaders);
  if (r.auth) headers.authorization = `Bearer ${e.backendToken}`;
  const hasBody = r.body !== undefined && r.method !== 'GET' && r.method !== 'HEAD';
  let res: Response;
  let body: Uint8Array;
  try {
    res = await fetch(urlOf(e, r), {
      method: r.method,
      headers,
      ...(hasBody ? { body: r.body as BodyInit } : {}),
      signal: AbortSignal.timeout(HANG_MS),
    });
    body = new Uint8Array(await res.arrayBuffer());
  } catch (err) {
    const name = (err as Error).name;
    if (name === 'TimeoutError') return { status: 'hang', problem: `no answer within ${HANG_MS} ms` };
    // A service may close the connection after answering an oversized body it refused to read; anything else is a
    // network failure of a request that should have had an answer.
    const cause = (err as { cause?: { message?: string; code?: string } }).cause;
    const why = cause ? ` (${cause.code ?? ''} ${cause.message ?? ''})` : '';
    return { status: 'network', problem: `request failed: ${(err as Error).message}${why}` };
  }
  if (res.status >= 500) {
    return {
      status: res.status,
      problem: `HTTP ${res.status}: ${new TextDecoder().decode(body.subarray(0, 300))}`,
    };
  }
  return {
    status: res.status,
    problem: judgeBody(r, res.status, res.headers.get('content-type') ?? '', body),
  };
}
