// Which shard object holds an id (worker/request-shard.ts): stable, in range, spread evenly, and REQUEST_SHARDS read
// with its default and bounds (worker/env.ts).

import { describe, expect, it } from 'vitest';
import { readConfig, type Env } from '../../../worker/env.js';
import {
  DEFAULT_REQUEST_SHARDS,
  MAX_REQUEST_SHARDS,
  shardName,
  shardOf,
} from '../../../worker/request-shard.js';

const ids = Array.from({ length: 16_000 }, (_, i) => `req-${i.toString(36)}-${(i * 7919).toString(16)}`);

describe('shardOf', () => {
  it('is FNV-1a: known values, the same on every call, within 0..n-1', () => {
    // FNV-1a 32-bit of "a" is 0xe40c292c, of "foobar" 0xbf9cf968 (the reference test vectors).
    expect(shardOf('a', 2 ** 31)).toBe(0xe40c292c % 2 ** 31);
    expect(shardOf('foobar', 1000)).toBe(0xbf9cf968 % 1000);
    for (const id of ids.slice(0, 100)) {
      expect(shardOf(id, 16)).toBe(shardOf(id, 16));
      expect(shardOf(id, 16)).toBeGreaterThanOrEqual(0);
      expect(shardOf(id, 16)).toBeLessThan(16);
      expect(shardOf(id, 1)).toBe(0);
    }
    expect(shardName(3)).toBe('shard-3');
  });

  it('spreads ids evenly over the shards', () => {
    const counts = new Array<number>(DEFAULT_REQUEST_SHARDS).fill(0);
    for (const id of ids) counts[shardOf(id, DEFAULT_REQUEST_SHARDS)]!++;
    const mean = ids.length / DEFAULT_REQUEST_SHARDS;
    for (const c of counts) expect(Math.abs(c - mean) / mean).toBeLessThan(0.1);
  });
});

describe('REQUEST_SHARDS', () => {
  const shards = (value: string | undefined) =>
    readConfig({ REQUEST_SHARDS: value } as unknown as Env).requestShards;
  it('defaults to 16 and takes a whole number in 1..4096; anything else falls back to the default', () => {
    expect(shards(undefined)).toBe(DEFAULT_REQUEST_SHARDS);
    expect(shards('1')).toBe(1);
    expect(shards('64')).toBe(64);
    expect(shards(String(MAX_REQUEST_SHARDS))).toBe(MAX_REQUEST_SHARDS);
    for (const bad of ['0', '-3', '2.5', 'many', String(MAX_REQUEST_SHARDS + 1)])
      expect(shards(bad)).toBe(DEFAULT_REQUEST_SHARDS);
  });
});
