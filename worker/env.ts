// The worker's bindings (wrangler.toml) and the typed, defaulted configuration read from them. Every module takes
// its settings from `readConfig` so a missing or malformed var has one default and one place that parses it.

import { DEFAULT_MAX_OFFLOAD_BYTES } from '../core/wire.js';
import type { RequestState } from './request-state.js';

/** Bindings declared in wrangler.toml (vars arrive as strings; numbers are tolerated for TOML integers). */
export interface Env {
  REQUEST_STATE: DurableObjectNamespace<RequestState>;
  ASSETS: Fetcher;
  BACKEND_URL?: string;
  /** Comma-separated model ids this edge serves (each needs `<id>/manifest.json` in the assets). */
  MODELS?: string;
  MAX_OFFLOAD_BYTES?: string | number;
  BACKEND_TIMEOUT_MS?: string | number;
  /** How long a request's record is kept after it was first seen (default 1 hour). */
  REQUEST_RETENTION_MS?: string | number;
  /** Secret shared with the backend (`.dev.vars` locally, `wrangler secret put` in production). */
  BACKEND_TOKEN?: string;
  /** Secret: the API keys, as `name:sha256hex` entries (core/api-keys.ts). Empty = keys not configured. */
  API_KEYS?: string;
  /**
   * `"true"` lets a worker with no API_KEYS serve requests addressed to a loopback host (wrangler dev, tests) without
   * a key. Anything else, or any other host, fails closed. Ignored once API_KEYS is set.
   */
  ALLOW_NO_KEYS_ON_LOOPBACK?: string;
  /** Workers Rate Limiting binding (wrangler.toml [[ratelimits]]): requests per key per period, per location. */
  KEY_RATE_LIMIT?: RateLimit;
  /** Offloads one key may have in flight at once in one isolate (default 32). */
  MAX_INFLIGHT_PER_KEY?: string | number;
  /** Comma-separated origins allowed to call the API from a browser (`*` = any); empty = same origin only. */
  CORS_ORIGINS?: string;
  /** A request body must arrive in full within this many ms, else 408 (default 10 s). */
  BODY_TIMEOUT_MS?: string | number;
  /** How long the record of a cancel that no offload claimed is kept (default 60 s). */
  CANCEL_TOMBSTONE_MS?: string | number;
}

export interface WorkerConfig {
  backendUrl: string;
  models: string[];
  maxOffloadBytes: number;
  backendTimeoutMs: number;
  backendToken: string | undefined;
  requestRetentionMs: number;
  maxInflightPerKey: number;
  corsOrigins: string[];
  bodyTimeoutMs: number;
  cancelTombstoneMs: number;
}

export const DEFAULT_BACKEND_URL = 'http://127.0.0.1:8790';
export const DEFAULT_BACKEND_TIMEOUT_MS = 10_000;
export const DEFAULT_REQUEST_RETENTION_MS = 60 * 60 * 1000;
export const DEFAULT_MAX_INFLIGHT_PER_KEY = 32;
export const DEFAULT_BODY_TIMEOUT_MS = 10_000;
export const DEFAULT_CANCEL_TOMBSTONE_MS = 60_000;

function positiveNumber(value: string | number | undefined, fallback: number): number {
  const n = typeof value === 'number' ? value : value === undefined || value === '' ? NaN : Number(value);
  return Number.isFinite(n) && n > 0 ? n : fallback;
}

function commaList(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);
}

export function readConfig(env: Env): WorkerConfig {
  return {
    backendUrl: (env.BACKEND_URL || DEFAULT_BACKEND_URL).replace(/\/+$/, ''),
    models: commaList(env.MODELS),
    maxOffloadBytes: positiveNumber(env.MAX_OFFLOAD_BYTES, DEFAULT_MAX_OFFLOAD_BYTES),
    backendTimeoutMs: positiveNumber(env.BACKEND_TIMEOUT_MS, DEFAULT_BACKEND_TIMEOUT_MS),
    backendToken: env.BACKEND_TOKEN || undefined,
    requestRetentionMs: positiveNumber(env.REQUEST_RETENTION_MS, DEFAULT_REQUEST_RETENTION_MS),
    maxInflightPerKey: positiveNumber(env.MAX_INFLIGHT_PER_KEY, DEFAULT_MAX_INFLIGHT_PER_KEY),
    corsOrigins: commaList(env.CORS_ORIGINS),
    bodyTimeoutMs: positiveNumber(env.BODY_TIMEOUT_MS, DEFAULT_BODY_TIMEOUT_MS),
    cancelTombstoneMs: positiveNumber(env.CANCEL_TOMBSTONE_MS, DEFAULT_CANCEL_TOMBSTONE_MS),
  };
}

/** Who is calling: the name of the API key that authenticated the request (worker/auth.ts). */
export interface Principal {
  /** The key's name from API_KEYS; `local-dev` for a keyless local dev server. */
  name: string;
}

/** Hono's environment for the app and every route module: the bindings, and the caller set by `requireApiKey`. */
export interface AppEnv {
  Bindings: Env;
  Variables: { principal: Principal };
}
