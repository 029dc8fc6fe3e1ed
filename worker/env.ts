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
}

export interface WorkerConfig {
  backendUrl: string;
  models: string[];
  maxOffloadBytes: number;
  backendTimeoutMs: number;
  backendToken: string | undefined;
  requestRetentionMs: number;
}

export const DEFAULT_BACKEND_URL = 'http://127.0.0.1:8790';
export const DEFAULT_BACKEND_TIMEOUT_MS = 10_000;
export const DEFAULT_REQUEST_RETENTION_MS = 60 * 60 * 1000;

function positiveNumber(value: string | number | undefined, fallback: number): number {
  const n = typeof value === 'number' ? value : value === undefined || value === '' ? NaN : Number(value);
  return Number.isFinite(n) && n > 0 ? n : fallback;
}

export function readConfig(env: Env): WorkerConfig {
  return {
    backendUrl: (env.BACKEND_URL || DEFAULT_BACKEND_URL).replace(/\/+$/, ''),
    models: (env.MODELS ?? '')
      .split(',')
      .map((m) => m.trim())
      .filter(Boolean),
    maxOffloadBytes: positiveNumber(env.MAX_OFFLOAD_BYTES, DEFAULT_MAX_OFFLOAD_BYTES),
    backendTimeoutMs: positiveNumber(env.BACKEND_TIMEOUT_MS, DEFAULT_BACKEND_TIMEOUT_MS),
    backendToken: env.BACKEND_TOKEN || undefined,
    requestRetentionMs: positiveNumber(env.REQUEST_RETENTION_MS, DEFAULT_REQUEST_RETENTION_MS),
  };
}
