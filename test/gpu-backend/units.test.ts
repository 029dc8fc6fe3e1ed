// Unit tests of the backend's small bookkeeping parts: the early-cancel registry (TTL, bound, idempotence), the
// request-record LRU, and configuration parsing (flags over environment over defaults, range checks).

import { afterEach, describe, expect, it } from 'vitest';
import { CancelRegistry } from '../../gpu-backend/cancel-registry.js';
import { parseConfig } from '../../gpu-backend/config.js';
import { RequestRecords, type RequestRecord } from '../../gpu-backend/request-records.js';

describe('CancelRegistry', () => {
  it('remembers a cancel for its TTL only', () => {
    let t = 1000;
    const r = new CancelRegistry(60_000, 10, () => t);
    r.remember('a');
    r.remember('a');
    expect(r.size).toBe(1);
    t += 59_999;
    expect(r.has('a')).toBe(true);
    t += 1;
    expect(r.has('a')).toBe(false);
    expect(r.size).toBe(0);
  });

  it('take() consumes the entry', () => {
    const r = new CancelRegistry(1000, 10);
    r.remember('x');
    expect(r.take('x')).toBe(true);
    expect(r.take('x')).toBe(false);
  });

  it('stays bounded, forgetting the oldest first', () => {
    const r = new CancelRegistry(60_000, 3);
    for (const id of ['a', 'b', 'c', 'd']) r.remember(id);
    expect(r.size).toBe(3);
    expect(r.has('a')).toBe(false);
    expect(r.has('d')).toBe(true);
  });
});

describe('RequestRecords', () => {
  const rec = (requestId: string) => ({ requestId }) as RequestRecord;
  it('evicts the least recently used beyond its bound', () => {
    const r = new RequestRecords(2);
    r.put(rec('a'));
    r.put(rec('b'));
    r.get('a'); // a is now the most recent
    r.put(rec('c'));
    expect(r.get('b')).toBeUndefined();
    expect(r.get('a')?.requestId).toBe('a');
    expect(r.get('c')?.requestId).toBe('c');
    expect(r.size).toBe(2);
  });
});

describe('parseConfig', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  it('has documented defaults', () => {
    for (const k of Object.keys(process.env)) if (k.startsWith('SPINN_')) delete process.env[k];
    const c = parseConfig([]);
    expect(c).toMatchObject({
      port: 8790,
      host: '127.0.0.1',
      modelsDir: 'models',
      provider: 'auto',
      token: null,
      maxQueue: 256,
    });
    expect(c.workers).toBeGreaterThanOrEqual(1);
    expect(c.threads).toBeGreaterThanOrEqual(1);
  });

  it('takes flags over environment variables', () => {
    process.env.SPINN_BACKEND_PORT = '9001';
    process.env.SPINN_BACKEND_TOKEN = 'from-env';
    process.env.SPINN_BACKEND_PROVIDER = 'cpu';
    const c = parseConfig(['--port', '9002', '--workers', '3', '--threads', '2', '--model', 'a, b']);
    expect(c).toMatchObject({
      port: 9002,
      token: 'from-env',
      provider: 'cpu',
      workers: 3,
      threads: 2,
      modelIds: ['a', 'b'],
    });
    expect(parseConfig([]).port).toBe(9001);
  });

  it('rejects bad values', () => {
    const quiet = process.stderr.write;
    process.stderr.write = () => true;
    try {
      expect(() => parseConfig(['--port', '70000'])).toThrow(/integer in \[0, 65535\]/);
      expect(() => parseConfig(['--provider', 'tpu'])).toThrow(/Allowed choices/);
      expect(() => parseConfig(['--workers', '0'])).toThrow(/integer/);
    } finally {
      process.stderr.write = quiet;
    }
  });
});
