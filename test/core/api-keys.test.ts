// The API key format and the API_KEYS parser: keys are random and hashed with SHA-256, entries are name:hash,
// rotation (one name, two hashes) is allowed, anything malformed is refused as a whole (fail closed).

import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  API_KEY_PREFIX,
  ApiKeyConfigError,
  apiKeyEntry,
  hashApiKey,
  newApiKey,
  parseApiKeyList,
} from '../../core/api-keys.js';

const H1 = 'a'.repeat(64);
const H2 = 'b'.repeat(64);

describe('API keys', () => {
  it('are fresh 256-bit random values with a recognisable prefix', () => {
    const keys = new Set(Array.from({ length: 100 }, () => newApiKey()));
    expect(keys.size).toBe(100);
    for (const k of keys) expect(k).toMatch(new RegExp(`^${API_KEY_PREFIX}[0-9a-f]{64}$`));
  });

  it('are stored as the SHA-256 hex of their UTF-8 bytes', async () => {
    const key = newApiKey();
    expect(await hashApiKey(key)).toBe(createHash('sha256').update(key).digest('hex'));
    expect(apiKeyEntry('alice', H1)).toBe(`alice:${H1}`);
    expect(() => apiKeyEntry('a b', H1)).toThrow(ApiKeyConfigError);
    expect(() => apiKeyEntry('alice', 'abc')).toThrow(ApiKeyConfigError);
  });
});

describe('parseApiKeyList', () => {
  it('reads name:hash entries separated by commas, spaces or newlines; empty means no keys', () => {
    expect(parseApiKeyList('')).toEqual(new Map());
    expect(parseApiKeyList(' \n ')).toEqual(new Map());
    const keys = parseApiKeyList(`alice:${H1},\n  bob:${H2.toUpperCase()} `);
    expect(keys).toEqual(
      new Map([
        [H1, 'alice'],
        [H2, 'bob'],
      ]),
    );
  });

  it('lets one name hold two keys (rotation) but not one key two names', () => {
    expect(parseApiKeyList(`alice:${H1},alice:${H2}`)).toEqual(
      new Map([
        [H1, 'alice'],
        [H2, 'alice'],
      ]),
    );
    expect(() => parseApiKeyList(`alice:${H1},bob:${H1}`)).toThrow(/two names/);
  });

  it('refuses the whole list when any entry is malformed, without echoing it', () => {
    for (const bad of [
      'alice',
      `:${H1}`,
      `alice:${H1.slice(1)}`,
      `al ice:${H1}`,
      `alice:${'g'.repeat(64)}`,
      `${'n'.repeat(65)}:${H1}`,
      `spinn_${'0'.repeat(64)}`,
    ]) {
      expect(() => parseApiKeyList(`bob:${H2},${bad}`), bad).toThrow(ApiKeyConfigError);
      try {
        parseApiKeyList(`bob:${H2},${bad}`);
      } catch (e) {
        expect((e as Error).message).toMatch(/entry 2/);
        expect((e as Error).message).not.toContain(bad);
      }
    }
  });
});
