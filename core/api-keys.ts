// API keys of the edge, in one place: what a key looks like, how it is stored (never in clear: `name:sha256hex`
// entries in the worker's API_KEYS secret), and the parser of that list. The worker verifies keys with it, the
// harness and `npm run key:new` make them with it. WebCrypto only, so it runs in workerd, Node and browsers.

import { sha256Hex, toHex } from './sha256.js';

/** Every key starts with this, so a leaked one is easy to recognise (and to scan for in repositories). */
export const API_KEY_PREFIX = 'spinn_';

/** A key's name: who holds it. It keys the rate limit and owns the request ids the key creates. */
const NAME = /^[A-Za-z0-9._-]{1,64}$/;
const HASH = /^[0-9a-f]{64}$/;

export class ApiKeyConfigError extends Error {
  override readonly name = 'ApiKeyConfigError';
}

/** A fresh key: the prefix and 32 random bytes in hex (256 bits; nothing to guess). */
export function newApiKey(): string {
  return API_KEY_PREFIX + toHex(crypto.getRandomValues(new Uint8Array(32)));
}

/** The stored form of a key: SHA-256 of its UTF-8 bytes, lower-case hex. */
export function hashApiKey(key: string): Promise<string> {
  return sha256Hex(key);
}

/** One API_KEYS entry for `name` holding the key whose hash is `hash`. */
export function apiKeyEntry(name: string, hash: string): string {
  if (!NAME.test(name)) throw new ApiKeyConfigError(`key name must be 1-64 characters of [A-Za-z0-9._-]`);
  if (!HASH.test(hash)) throw new ApiKeyConfigError('key hash must be 64 lower-case hex digits (SHA-256)');
  return `${name}:${hash}`;
}

/**
 * Parses API_KEYS: `name:sha256hex` entries separated by commas, spaces or newlines. A name may appear with several
 * hashes (rotation: add the new key, move clients over, remove the old one); a hash may not belong to two names.
 * Returns hash → name. Throws ApiKeyConfigError on any malformed entry, so a typo locks everyone out instead of
 * silently dropping a key (fail closed).
 */
export function parseApiKeyList(raw: string): Map<string, string> {
  const keys = new Map<string, string>();
  const entries = raw.split(/[\s,]+/).filter(Boolean);
  entries.forEach((entry, i) => {
    const colon = entry.lastIndexOf(':');
    const name = entry.slice(0, colon);
    const hash = entry.slice(colon + 1).toLowerCase();
    if (colon < 0 || !NAME.test(name) || !HASH.test(hash)) {
      throw new ApiKeyConfigError(
        `API_KEYS entry ${i + 1} is not name:sha256hex (name of [A-Za-z0-9._-], 64 hex digits)`,
      );
    }
    const other = keys.get(hash);
    if (other !== undefined && other !== name) {
      throw new ApiKeyConfigError(`API_KEYS entry ${i + 1}: the same key hash is listed for two names`);
    }
    keys.set(hash, name);
  });
  return keys;
}
