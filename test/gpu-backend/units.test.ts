// Unit tests of the backend's small bookkeeping parts: the early-cancel registry (TTL, bound, idempotence), the
// request-record LRU, the batcher's queue (which batch a free worker takes, and when), batching limits, and
// configuration parsing (flags over environment over defaults, range checks).

import { afterEach, describe, expect, it } from 'vitest';
import { BatchQueue, type Queued } from '../../gpu-backend/batch-queue.js';
import {
  DEFAULT_BATCH_LIMITS,
  parseModelBatching,
  resolveBatchLimits,
  type BatchLimits,
} from '../../gpu-backend/batching.js';
import { Hono } from 'hono';
import { readFileSync } from 'node:fs';
import { limitBody } from '../../gpu-backend/body-limit.js';
import { BACKEND_NODE_FLAGS, hasBackendNodeFlags } from '../../gpu-backend/node-flags.js';
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

describe('BatchQueue', () => {
  const limits: Record<string, BatchLimits> = {
    a: { maxBatch: 3, maxDelayMs: 10 },
    b: { maxBatch: 2, maxDelayMs: 0 },
  };
  const of = (id: string) => limits[id]!;
  const q = (items: [string, string, number][]) => {
    const queue = new BatchQueue<Queued>();
    for (const [requestId, modelId, enqueuedAt] of items) queue.push({ requestId, modelId, enqueuedAt });
    return queue;
  };
  const ids = (r: ReturnType<BatchQueue<Queued>['take']>) =>
    r && 'batch' in r ? r.batch.map((i) => i.requestId) : r;

  it('waits for a batch to fill until the delay is over, then takes what is there', () => {
    const queue = q([
      ['a1', 'a', 0],
      ['a2', 'a', 4],
    ]);
    expect(queue.take(5, 1, of)).toEqual({ retryAt: 10 });
    expect(ids(queue.take(10, 1, of))).toEqual(['a1', 'a2']);
    expect(queue.take(10, 1, of)).toBeNull();
  });

  it('takes a full batch at once, oldest first, one model per batch', () => {
    const queue = q([
      ['a1', 'a', 0],
      ['b1', 'b', 1],
      ['a2', 'a', 2],
      ['a3', 'a', 3],
      ['a4', 'a', 3],
    ]);
    expect(ids(queue.take(3, 1, of))).toEqual(['a1', 'a2', 'a3']);
    // a4 waits for its batch; b1 (no delay) goes.
    expect(ids(queue.take(3, 1, of))).toEqual(['b1']);
    expect(queue.take(3, 1, of)).toEqual({ retryAt: 13 });
    expect(queue.length).toBe(1);
  });

  it('shares a queue out between free workers', () => {
    const queue = q([
      ['b1', 'b', 0],
      ['b2', 'b', 0],
      ['b3', 'b', 0],
    ]);
    expect(ids(queue.take(0, 3, of))).toEqual(['b1']);
    expect(ids(queue.take(0, 2, of))).toEqual(['b2']);
    expect(ids(queue.take(0, 1, of))).toEqual(['b3']);
  });

  it('finds and removes queued requests', () => {
    const queue = q([
      ['a1', 'a', 0],
      ['a2', 'a', 0],
    ]);
    expect(queue.find('a2')?.requestId).toBe('a2');
    expect(queue.remove('a1')?.requestId).toBe('a1');
    expect(queue.remove('a1')).toBeUndefined();
    expect(queue.drain().map((i) => i.requestId)).toEqual(['a2']);
    expect(queue.length).toBe(0);
  });
});

describe('batching limits', () => {
  it('resolves per model, then global, then the provider default', () => {
    const c = { maxBatch: 4, maxDelayMs: null, perModel: { m: { maxDelayMs: 2 } } };
    expect(resolveBatchLimits(c, 'm', 'cuda')).toEqual({ maxBatch: 4, maxDelayMs: 2 });
    expect(resolveBatchLimits(c, 'other', 'cuda')).toEqual({
      maxBatch: 4,
      maxDelayMs: DEFAULT_BATCH_LIMITS.cuda.maxDelayMs,
    });
    const none = { maxBatch: null, maxDelayMs: null, perModel: {} };
    expect(resolveBatchLimits(none, 'm', 'cpu')).toEqual(DEFAULT_BATCH_LIMITS.cpu);
  });

  it('parses the per-model setting and names what is wrong', () => {
    expect(parseModelBatching('a=16:2, b=4,c=:0.5')).toEqual({
      a: { maxBatch: 16, maxDelayMs: 2 },
      b: { maxBatch: 4 },
      c: { maxDelayMs: 0.5 },
    });
    expect(() => parseModelBatching('a')).toThrow(/not id=maxBatch\[:delayMs\]/);
    expect(() => parseModelBatching('a=0')).toThrow(/max batch of a must be an integer in \[1, 256\]/);
    expect(() => parseModelBatching('a=2:-1')).toThrow(/batch delay of a/);
    expect(() => parseModelBatching('a=2,a=3')).toThrow(/twice/);
    expect(() => parseModelBatching('a=:')).toThrow(/sets nothing/);
  });
});

describe('limitBody', () => {
  const app = new Hono().post(
    '/',
    limitBody(10, (c) => c.json({ error: 'too large' }, 413)),
    async (c) => c.json({ got: (await c.req.arrayBuffer()).byteLength }),
  );
  const post = (body: BodyInit, headers: Record<string, string> = {}) =>
    app.request('/', {
      method: 'POST',
      body,
      headers,
      ...(body instanceof ReadableStream ? { duplex: 'half' } : {}),
    });
  const stream = (n: number) =>
    new ReadableStream({
      start(c) {
        c.enqueue(new Uint8Array(n));
        c.close();
      },
    });

  it('judges a body by its Content-Length, and a chunked one while reading it', async () => {
    expect(await (await post('0123456789', { 'content-length': '10' })).json()).toEqual({ got: 10 });
    expect((await post('01234567890', { 'content-length': '11' })).status).toBe(413);
    expect(await (await post(stream(10))).json()).toEqual({ got: 10 });
    expect((await post(stream(11))).status).toBe(413);
  });
});

describe('backend Node flags', () => {
  it('are on every documented way of starting a backend', () => {
    const root = new URL('../../', import.meta.url);
    const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as {
      scripts: Record<string, string>;
    };
    const unit = readFileSync(new URL('gpu-backend/deploy/spinn-backend@.service', root), 'utf8');
    const execStart = unit.split('\n').find((l) => l.startsWith('ExecStart='))!;
    for (const flag of BACKEND_NODE_FLAGS) {
      expect(pkg.scripts.backend).toContain(flag);
      expect(execStart).toContain(flag);
    }
    expect(hasBackendNodeFlags([...BACKEND_NODE_FLAGS, '--import', 'tsx'])).toBe(true);
    expect(hasBackendNodeFlags(['--import', 'tsx'])).toBe(false);
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
    expect(c.batching).toEqual({ maxBatch: null, maxDelayMs: null, perModel: {} });
  });

  it('reads batching from flags and environment', () => {
    process.env.SPINN_BACKEND_BATCH_DELAY_MS = '1.5';
    process.env.SPINN_BACKEND_MODEL_BATCHING = 'x=2';
    expect(parseConfig(['--max-batch', '16']).batching).toEqual({
      maxBatch: 16,
      maxDelayMs: 1.5,
      perModel: { x: { maxBatch: 2 } },
    });
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
      expect(() => parseConfig(['--max-batch', '300'])).toThrow(/max batch must be an integer in \[1, 256\]/);
      expect(() => parseConfig(['--batch-delay-ms', 'soon'])).toThrow(/batch delay/);
      expect(() => parseConfig(['--model-batching', 'x=0'])).toThrow(/max batch of x/);
    } finally {
      process.stderr.write = quiet;
    }
  });
});
