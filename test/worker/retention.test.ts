// What the edge keeps in Durable Object storage, measured through the shard objects themselves (RequestShard.footprint:
// records, stored keys and the SQLite database's bytes, which Cloudflare bills) in real workerd:
// - N cancels of random ids leave N small records for CANCEL_TOMBSTONE_MS, then nothing;
// - per key, such records are bounded by the rate limit (at most 2 × limit per period, fixed windows);
// - a request's record has a size bound, whatever the backend answers.
// What is stored is measured on a worker whose window (10 min) cannot end during the test; what is left, on one
// whose window (1 s) is waited out by polling until every alarm has fired. No assertion depends on timing.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURE_MODEL_ID, writeFixtureAssets } from '../support/fixture-model.js';
import { startFakeBackend, type FakeBackend } from '../support/fake-backend.js';
import { startWorker, type RunningWorker } from '../support/start-worker.js';
import { newRequestId, offload, postOffload, readResult } from '../support/wire-helpers.js';
import { DEFAULT_REQUEST_SHARDS, shardName, shardOf } from '../../worker/request-shard.js';

const SHORT_MS = 1000;
const N = 200;
const assetsDir = writeFixtureAssets().dir;
let backend: FakeBackend;
/** Tombstones outlive the test: what is stored. */
let worker: RunningWorker;
/** Tombstones expire within a second: what is left. */
let brief: RunningWorker;

beforeAll(async () => {
  backend = await startFakeBackend();
  const start = (tombstoneMs: number) =>
    startWorker({
      backendUrl: backend.url,
      assetsDir,
      vars: { MODELS: FIXTURE_MODEL_ID, CANCEL_TOMBSTONE_MS: String(tombstoneMs) },
    });
  [worker, brief] = await Promise.all([start(10 * 60_000), start(SHORT_MS)]);
});

afterAll(async () => {
  await worker?.stop();
  await brief?.stop();
  await backend?.close();
});

interface Footprint {
  records: number;
  keys: number;
  bytes: number;
}

interface ShardProbe {
  footprint(): Promise<Footprint>;
  storedSize(requestId: string): Promise<number | null>;
}

/** The shard object holding `id`, over the Durable Object binding (not HTTP). */
async function shardOfId(w: RunningWorker, id: string): Promise<ShardProbe> {
  const ns = await w.miniflare.getDurableObjectNamespace('REQUEST_STATE');
  return ns.get(ns.idFromName(shardName(shardOf(id, DEFAULT_REQUEST_SHARDS)))) as unknown as ShardProbe;
}

/** What every shard object of `w` stores, summed. */
async function stored(w: RunningWorker): Promise<Footprint> {
  const ns = await w.miniflare.getDurableObjectNamespace('REQUEST_STATE');
  const all = await Promise.all(
    Array.from({ length: DEFAULT_REQUEST_SHARDS }, async (_, n) => {
      // Miniflare's proxy resolves each property of an RPC result separately.
      const f = (await (ns.get(ns.idFromName(shardName(n))) as unknown as ShardProbe).footprint()) as {
        [K in keyof Footprint]: Promise<number> | number;
      };
      return { records: await f.records, keys: await f.keys, bytes: await f.bytes };
    }),
  );
  return {
    records: all.reduce((s, f) => s + f.records, 0),
    keys: all.reduce((s, f) => s + f.keys, 0),
    bytes: all.reduce((s, f) => s + f.bytes, 0),
  };
}

async function inBatches<T>(items: T[], size: number, run: (item: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(run));
}

const cancel = (w: RunningWorker, id: string) =>
  fetch(`${w.url}/v1/requests/${id}`, { method: 'DELETE', headers: w.auth });

describe('Durable Object storage retention', () => {
  it(`${N} cancels of random ids store ${N} small records, and nothing once the tombstone window has passed`, async () => {
    const cancelAll = async (w: RunningWorker, ids: string[]) =>
      inBatches(ids, 16, async (id) => {
        const res = await cancel(w, id);
        expect(res.status).toBe(200);
        await res.arrayBuffer();
      });

    const before = await stored(worker);
    const kept = Array.from({ length: N }, () => newRequestId());
    await cancelAll(worker, kept);
    const during = await stored(worker);
    // A record and its expiry index entry per id; nothing else.
    expect(during.records - before.records).toBe(N);
    expect(during.keys - before.keys).toBe(2 * N);

    const briefBefore = await stored(brief);
    const expiring = Array.from({ length: N }, () => newRequestId());
    await cancelAll(brief, expiring);
    // Each shard's alarm fires at its earliest expiry and deletes what is due; wait until every record is gone.
    await expect
      .poll(async () => (await stored(brief)).records, { timeout: 60_000, interval: 1000 })
      .toBe(briefBefore.records);
    const after = await stored(brief);
    console.log(
      `[retention] ${N} random cancels: ${during.records - before.records} records in ` +
        `${DEFAULT_REQUEST_SHARDS} shard objects, ${((during.bytes - before.bytes) / N).toFixed(0)} B of SQLite ` +
        `each while the window lasts; after it: ${after.records} records, ${after.keys} keys ` +
        `(${after.bytes} B of SQLite in all; SQLite keeps freed pages for reuse)`,
    );
    expect(after.keys).toBe(briefBefore.keys);
    expect((await fetch(`${brief.url}/v1/requests/${expiring[0]}`, { headers: brief.auth })).status).toBe(
      404,
    );
  }, 180_000); // 2N cancels, each told to the backend too, then a wait for N alarms: minutes beside CPU hogs

  it('a cancel claimed by its offload becomes a request kept for REQUEST_RETENTION_MS, not the tombstone window', async () => {
    const msg = offload();
    await (await cancel(brief, msg.requestId)).arrayBuffer();
    expect((await readResult(await postOffload(brief.url, msg))).status).toBe('cancelled');
    // A tombstone made after it expires; once it has, the claimed id's window would have passed too.
    const probe = newRequestId();
    await (await cancel(brief, probe)).arrayBuffer();
    await expect
      .poll(async () => (await shardOfId(brief, probe)).storedSize(probe), { timeout: 60_000, interval: 500 })
      .toBe(null);
    const res = await fetch(`${brief.url}/v1/requests/${msg.requestId}`, { headers: brief.auth });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'cancelled', cancelledBeforeOffload: true });
  });

  it("a request's record stays small whatever the backend says", async () => {
    backend.delayMs = 60_000;
    backend.cancelExtra = { detail: 'x'.repeat(100_000) };
    try {
      const msg = offload();
      const answer = postOffload(worker.url, msg);
      await backend.nextInfer(msg.requestId);
      const reply = (await (await cancel(worker, msg.requestId)).json()) as { backend: { body: unknown } };
      expect(typeof reply.backend.body).toBe('string');
      expect((reply.backend.body as string).length).toBeLessThanOrEqual(2000);
      expect((await readResult(await answer)).status).toBe('cancelled');
      const record = await (
        await fetch(`${worker.url}/v1/requests/${msg.requestId}`, { headers: worker.auth })
      ).text();
      const size = await (await shardOfId(worker, msg.requestId)).storedSize(msg.requestId);
      console.log(
        `[retention] record after a 100 kB backend answer: ${record.length} B of JSON shown, ${size} B stored`,
      );
      expect(record.length).toBeLessThan(4096);
      expect(size).toBeLessThan(4096);
    } finally {
      backend.delayMs = 0;
      backend.cancelExtra = {};
    }
  });
});

describe('storage per key is bounded by its rate limit', () => {
  const LIMIT = 20;
  let limited: RunningWorker;
  beforeAll(async () => {
    limited = await startWorker({
      backendUrl: backend.url,
      assetsDir,
      rateLimit: { limit: LIMIT, period: 60 },
      vars: { MODELS: FIXTURE_MODEL_ID },
    });
  });
  afterAll(async () => limited?.stop());

  it('a flood of cancels from one key creates at most 2 × limit records per period; the rest are 429', async () => {
    const ids = Array.from({ length: 5 * LIMIT }, () => newRequestId());
    const statuses: number[] = [];
    await inBatches(ids, 10, async (id) => {
      const res = await cancel(limited, id);
      statuses.push(res.status);
      await res.arrayBuffer();
    });
    const { records } = await stored(limited);
    const accepted = statuses.filter((s) => s === 200).length;
    console.log(
      `[retention] ${ids.length} cancels from one key at ${LIMIT}/60 s: ${accepted} accepted, ` +
        `${statuses.filter((s) => s === 429).length} refused (429), ${records} records stored`,
    );
    // Fixed windows: a burst well within one period touches at most two of them.
    expect(accepted).toBeGreaterThanOrEqual(LIMIT);
    expect(accepted).toBeLessThanOrEqual(2 * LIMIT);
    expect(records).toBe(accepted);
    expect(statuses.every((s) => s === 200 || s === 429)).toBe(true);
  });
});
