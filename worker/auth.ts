// Access control of the API: a bearer API key on every route that spends backend time or touches request state.
// Keys are stored hashed (the API_KEYS secret, format in core/api-keys.ts), parsed once per isolate and per value,
// and checked by hashing the presented key (one SHA-256, once per key and isolate) and looking the hash up: no storage
// and no network on the request's path. A worker without keys fails closed, except a local dev server that asks for it.

import type { MiddlewareHandler } from 'hono';
import { ApiKeyConfigError, hashApiKey, parseApiKeyList } from '../core/api-keys.js';
import type { AppEnv, Env } from './env.js';
import { httpError } from './http-error.js';

/** The principal of every request to a keyless local dev server. */
export const LOCAL_DEV_PRINCIPAL = 'local-dev';

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);
/** Longer bearer values are not keys (ours are 70 characters); they are refused without hashing. */
const MAX_KEY_CHARS = 256;
const REALM = 'Bearer realm="spinn"';

/** API_KEYS parsed: key hash to key name, and the presented keys already found in it (key to name). */
interface KeyTable {
  byHash: Map<string, string>;
  /**
   * Keys that hashed to an entry of `byHash`, so a client's every request after its first skips the SHA-256
   * (WebCrypto's digest is an async call into the runtime; the profile of `npm run bench:hop` showed it costing the
   * offload path more than the Hono router). Only keys that verified are kept, so it holds at most one string per
   * configured key and unknown keys cannot grow it; it is dropped with the table when API_KEYS changes.
   */
  verified: Map<string, string>;
}
/** API_KEYS parsed, per raw value (a secret change starts new isolates anyway; this only saves re-parsing). */
let parsed: { raw: string; keys: KeyTable | ApiKeyConfigError } | undefined;

function keyTable(env: Env): KeyTable {
  const raw = env.API_KEYS ?? '';
  if (parsed?.raw !== raw) {
    try {
      parsed = { raw, keys: { byHash: parseApiKeyList(raw), verified: new Map() } };
    } catch (e) {
      if (!(e instanceof ApiKeyConfigError)) throw e;
      parsed = { raw, keys: e };
    }
  }
  if (parsed.keys instanceof ApiKeyConfigError) {
    console.error(`API_KEYS is invalid, refusing every keyed request: ${parsed.keys.message}`);
    throw httpError(503, "the edge's API key configuration is invalid; its operator must fix API_KEYS");
  }
  return parsed.keys;
}

/** The name of the key `key`, or undefined for an unknown one. */
async function keyName(table: KeyTable, key: string): Promise<string | undefined> {
  const known = table.verified.get(key);
  if (known !== undefined || key.length > MAX_KEY_CHARS) return known;
  const name = table.byHash.get(await hashApiKey(key));
  if (name !== undefined) table.verified.set(key, name);
  return name;
}

function bearer(header: string | undefined): string | undefined {
  const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header ?? '');
  return m?.[1];
}

/** True for a request addressed to this machine's loopback interface (a deployed worker never sees one). */
function isLoopback(url: string): boolean {
  return LOOPBACK_HOSTS.has(new URL(url).hostname);
}

/**
 * Sets `c.var.principal` from `authorization: Bearer <key>`, or answers 401 (no key, unknown key), 403 (no keys
 * configured: fail closed) or 503 (API_KEYS malformed).
 */
export const requireApiKey: MiddlewareHandler<AppEnv> = async (c, next) => {
  const keys = keyTable(c.env);
  if (keys.byHash.size === 0) {
    if (c.env.ALLOW_NO_KEYS_ON_LOOPBACK === 'true' && isLoopback(c.req.url)) {
      c.set('principal', { name: LOCAL_DEV_PRINCIPAL });
      return next();
    }
    throw httpError(
      403,
      'this edge has no API keys configured and refuses API calls until its operator sets API_KEYS',
    );
  }
  const key = bearer(c.req.header('authorization'));
  if (key === undefined) {
    throw httpError(401, 'missing API key: send `authorization: Bearer <key>`', {
      'www-authenticate': REALM,
    });
  }
  const name = await keyName(keys, key);
  if (name === undefined) {
    throw httpError(401, 'unknown API key', {
      'www-authenticate': `${REALM}, error="invalid_token"`,
    });
  }
  c.set('principal', { name });
  return next();
};
