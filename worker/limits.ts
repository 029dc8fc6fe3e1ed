// Per-key limits, after authentication: a request rate (the Workers Rate Limiting binding, KEY_RATE_LIMIT) on every
// keyed route, and a cap on offloads in flight (`MAX_INFLIGHT_PER_KEY`, counted in this isolate) on POST /v1/infer.
// Both answer 429 with Retry-After. Neither adds a network round trip: the binding's counters are cached on the
// machine that runs the worker, and the in-flight count is a Map in the isolate. worker/README.md has the trade-off.

import type { MiddlewareHandler } from 'hono';
import { readConfig, type AppEnv } from './env.js';
import { httpError } from './http-error.js';

/**
 * The period of wrangler.toml's `[[ratelimits]] simple.period` (Cloudflare allows 10 or 60). The binding does not
 * report when its window ends, so a refused client is told to wait one whole period. A test keeps the two equal.
 */
export const RATE_LIMIT_PERIOD_S = 10;
/** A slot frees when one of the key's offloads ends: typically well under a second. */
const INFLIGHT_RETRY_AFTER_S = 1;

export const rateLimit: MiddlewareHandler<AppEnv> = async (c, next) => {
  const limiter = c.env.KEY_RATE_LIMIT;
  const name = c.var.principal.name;
  let allowed = true;
  try {
    allowed = limiter ? (await limiter.limit({ key: name })).success : true;
  } catch (e) {
    // The limiter protects the backend; an outage of the limiter must not become an outage of the API.
    console.error('rate limiter failed; letting the request through', e);
  }
  if (!allowed) {
    throw httpError(429, `rate limit of key ${name} reached; retry in ${RATE_LIMIT_PERIOD_S} s`, {
      'retry-after': String(RATE_LIMIT_PERIOD_S),
    });
  }
  return next();
};

/** Offloads in flight per key name in this isolate; an entry exists only while its count is above zero. */
const inflight = new Map<string, number>();

/** How many offloads of `name` this isolate is running now (tests and /healthz-style diagnostics). */
export function inflightOf(name: string): number {
  return inflight.get(name) ?? 0;
}

export const inflightCap: MiddlewareHandler<AppEnv> = async (c, next) => {
  const max = readConfig(c.env).maxInflightPerKey;
  const name = c.var.principal.name;
  const now = inflightOf(name);
  if (now >= max) {
    throw httpError(
      429,
      `key ${name} already has ${now} offloads in flight (limit ${max}); retry when one has answered`,
      { 'retry-after': String(INFLIGHT_RETRY_AFTER_S) },
    );
  }
  inflight.set(name, now + 1);
  try {
    await next();
  } finally {
    const left = inflightOf(name) - 1;
    if (left > 0) inflight.set(name, left);
    else inflight.delete(name);
  }
};
