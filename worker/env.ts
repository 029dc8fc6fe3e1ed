// The worker's bindings (wrangler.toml) and the typed, defaulted configuration read from them. Every module takes
// its settings from `readConfig` so a missing or malformed var has one default and one place that parses it.

import { DEFAULT_MAX_OFFLOAD_BYTES } from '../core/wire.js';
import { readBackends, type BackendSpec } from './backends-config.js';
import { DEFAULT_REQUEST_SHARDS, MAX_REQUEST_SHARDS } from './request-shard.js';

/**
 * The worker's bindings: what wrangler.toml declares, as `wrangler types` generates them into
 * worker-configuration.d.ts (`npm run worker:types`; test/worker/deploy-config.test.ts fails while that file is stale),
 * plus the bindings wrangler.toml never declares. Vars are documented in wrangler.toml and the root README's
 * Configuration; secrets (BACKENDS and BACKEND_TOKEN and API_KEYS in production, OIP_BACKENDS and OIP_TOKEN when
 * used) in docs/deploy.md.
 */
export interface Env extends Cloudflare.Env {
  /** The one-backend form of BACKENDS (worker/backends-config.ts), honoured while BACKENDS is unset. */
  BACKEND_URL?: string;
  /** Open Inference Protocol v2 servers for server-only requests: JSON (worker/backends-config.ts). Optional. */
  OIP_BACKENDS?: string;
  /** Bearer token sent to the OIP_BACKENDS servers (never BACKEND_TOKEN: they may belong to someone else). */
  OIP_TOKEN?: string;
  /**
   * `"true"` lets a worker with no API_KEYS serve requests addressed to a loopback host (wrangler dev, tests) without
   * a key. Only .dev.vars sets it (never wrangler.toml); anything else, or any other host, fails closed. Ignored once
   * API_KEYS is set.
   */
  ALLOW_NO_KEYS_ON_LOOPBACK?: string;
}

export interface WorkerConfig {
  /** The fleet: SPINN backends (BACKENDS, or BACKEND_URL), then OIP servers (OIP_BACKENDS); empty with a problem. */
  backends: BackendSpec[];
  /** Why there is no usable fleet, for the operator (503 bodies, /healthz, logs); null when there is one. */
  backendsProblem: string | null;
  /** A configuration remark that does not stop the edge (shown in /healthz). */
  backendsNotice: string | null;
  models: string[];
  maxOffloadBytes: number;
  backendTimeoutMs: number;
  backendToken: string | undefined;
  oipToken: string | undefined;
  requestRetentionMs: number;
  maxInflightPerKey: number;
  corsOrigins: string[];
  bodyTimeoutMs: number;
  cancelTombstoneMs: number;
  /** Objects the request records are spread over (REQUEST_SHARDS; worker/request-shard.ts). */
  requestShards: number;
}

export const DEFAULT_BACKEND_TIMEOUT_MS = 10_000;
export const DEFAULT_REQUEST_RETENTION_MS = 60 * 60 * 1000;
export const DEFAULT_MAX_INFLIGHT_PER_KEY = 32;
export const DEFAULT_BODY_TIMEOUT_MS = 10_000;
export const DEFAULT_CANCEL_TOMBSTONE_MS = 60_000;

function positiveNumber(value: string | number | undefined, fallback: number): number {
  const n = typeof value === 'number' ? value : value === undefined || value === '' ? NaN : Number(value);
  return Number.isFinite(n) && n > 0 ? n : fallback;
}

/** A whole number in 1..max, else the fallback. */
function countIn(value: string | undefined, max: number, fallback: number): number {
  const n = positiveNumber(value, fallback);
  return Number.isInteger(n) && n <= max ? n : fallback;
}

function commaList(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);
}

/**
 * Configurations already read, per bindings object. workerd hands every request of an isolate the same `env`, and
 * its vars and secrets do not change under a running isolate (a new version or secret starts new isolates), so the
 * parse runs once per isolate instead of three or four times per offload (`npm run bench:hop`'s profile showed it).
 * Keyed weakly by the object, so tests that build their own bindings get their own configuration.
 */
const configs = new WeakMap<Env, Readonly<WorkerConfig>>();

export function readConfig(env: Env): Readonly<WorkerConfig> {
  let config = configs.get(env);
  if (!config) configs.set(env, (config = parseConfig(env)));
  return config;
}

function parseConfig(env: Env): WorkerConfig {
  // No default backend: a guessed one (loopback, say) would turn a forgotten setting into offloads sent nowhere.
  const fleet = readBackends(env);
  return {
    backends: fleet.backends,
    backendsProblem: fleet.problem,
    backendsNotice: fleet.notice,
    models: commaList(env.MODELS),
    maxOffloadBytes: positiveNumber(env.MAX_OFFLOAD_BYTES, DEFAULT_MAX_OFFLOAD_BYTES),
    backendTimeoutMs: positiveNumber(env.BACKEND_TIMEOUT_MS, DEFAULT_BACKEND_TIMEOUT_MS),
    backendToken: env.BACKEND_TOKEN || undefined,
    oipToken: env.OIP_TOKEN || undefined,
    requestRetentionMs: positiveNumber(env.REQUEST_RETENTION_MS, DEFAULT_REQUEST_RETENTION_MS),
    maxInflightPerKey: positiveNumber(env.MAX_INFLIGHT_PER_KEY, DEFAULT_MAX_INFLIGHT_PER_KEY),
    corsOrigins: commaList(env.CORS_ORIGINS),
    bodyTimeoutMs: positiveNumber(env.BODY_TIMEOUT_MS, DEFAULT_BODY_TIMEOUT_MS),
    cancelTombstoneMs: positiveNumber(env.CANCEL_TOMBSTONE_MS, DEFAULT_CANCEL_TOMBSTONE_MS),
    requestShards: countIn(env.REQUEST_SHARDS, MAX_REQUEST_SHARDS, DEFAULT_REQUEST_SHARDS),
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
