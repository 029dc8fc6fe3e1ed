// API keys for the stacks that demo, tests and benchmarks start: fresh keys and the API_KEYS value (hashes only)
// that configures the edge with them, so every local run exercises the same access control as a deployment.

import { apiKeyEntry, hashApiKey, newApiKey } from '../core/api-keys.js';

export interface ApiKeySet {
  /** The keys in clear, for clients (`authorization: Bearer <key>`); key i is named `key<i>`. */
  keys: string[];
  /** The edge's API_KEYS value for them. */
  apiKeysVar: string;
}

/** `wanted` fresh keys, or exactly the keys given. */
export async function makeApiKeys(wanted: number | string[]): Promise<ApiKeySet> {
  const all = typeof wanted === 'number' ? Array.from({ length: wanted }, () => newApiKey()) : wanted;
  const entries = await Promise.all(all.map(async (k, i) => apiKeyEntry(`key${i}`, await hashApiKey(k))));
  return { keys: all, apiKeysVar: entries.join(',') };
}

/** Request headers that present `key`. */
export function bearer(key: string): Record<string, string> {
  return { authorization: `Bearer ${key}` };
}
