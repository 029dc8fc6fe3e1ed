// What the edge keeps in Durable Object storage, measured through the objects themselves (RequestState.footprint:
// stored keys and the SQLite database's bytes, which Cloudflare bills) in real workerd:
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
  keys: number;
  bytes: number;
}

/** Storage of the RequestState object of each id, asked over the Durable Object binding (not HTTP). */
async function footprints(w: RunningWorker, ids: string[]): Promise<Footprint[]> {
  const ns = await w.miniflare.getDurableObjectNamespace('REQUEST_STATE');
  return Promise.all(
    ids.map(async (id) => {
      // Miniflare's proxy resolves each property of an RPC result separately.
      const f = (await (
        ns.get(ns.idFromName(id)) as unknown as { footprint(): Promise<Footprint> }
      ).footprint()) as {
        keys: Promise<number> | number;
        bytes: Promise<number> | number;
      };
      return { keys: await f.keys, bytes: await f.bytes };
    }),
  );
}

const total = (fs: Footprint[]) => ({
  objectsWithData: fs.filter((f) => f.keys > 0).length,
  keys: fs.reduce((s, f) => s + f.keys, 0),
  dbBytes: fs.reduce((s, f) => s + f.bytes, 0),
});

async function inBatches<T>(items: T[], size: number, run: (item: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(run));
}

const cancel = (w: RunningWorker, id: string) =>
  fetch(`${w.url}/v1/requests/${id}`, { method: 'DELETE', headers: w.auth });

describe('Durable Object storage retention', () => {
  it(`${N} cancels of random ids store ${N} small records, and nothing once the tombstone window has passed`, async () => {
    const empty = total(await footprints(worker, [newRequestId()]));
    const cancelAll = async (w: RunningWorker, ids: string[]) =>
      inBatches(ids, 16, async (id) => {
        const res = await cancel(w, id);
        expect(res.status).toBe(200);
        await res.arrayBuffer();
      });

    const kept = Array.from({ length: N }, () => newRequestId());
    await cancelAll(worker, kept);
    const during = total(await footprints(worker, kept));
    expect(during.objectsWithData).toBe(N);
    expect(during.keys).toBe(N);

    const expiring = Array.from({ length: N }, () => newRequestId());
    await cancelAll(brief, expiring);
    // The alarms fire CANCEL_TOMBSTONE_MS after each cancel; wait until every one has.
    await expect
      .poll(async () => total(await footprints(brief, expiring)).objectsWithData, {
        timeout: 60_000,
        interval: 1000,
      })
      .toBe(0);
    const after = total(await footprints(brief, expiring));
    console.log(
      `[retention] ${N} random cancels: ${during.objectsWithData} objects, ${during.keys} records, ` +
        `${(during.dbBytes / N).toFixed(0)} B of SQLite each while the window lasts; after it: ` +
        `${after.objectsWithData} objects with data, ${after.keys} records, ${(after.dbBytes / N).toFixed(0)} B ` +
        `per (empty) database, as for an id never seen (${empty.dbBytes} B; Cloudflare stores nothing for it)`,
    );
    expect(after).toEqual({ objectsWithData: 0, keys: 0, dbBytes: N * empty.dbBytes });
    expect((await fetch(`${brief.url}/v1/requests/${expiring[0]}`, { headers: brief.auth })).status).toBe(
      404,
    );
  }, 180_000); // 400 cancels and a wait for 200 alarms: over a minute on a loaded 2-core machine

  it('a cancel claimed by its offload becomes a request kept for REQUEST_RETENTION_MS, not the tombstone window', async () => {
    const msg = offload();
    await (await cancel(brief, msg.requestId)).arrayBuffer();
    expect((await readResult(await postOffload(brief.url, msg))).status).toBe('cancelled');
    // A tombstone made after it expires; once it has, the claimed id's window would have passed too.
    const probe = newRequestId();
    await (await cancel(brief, probe)).arrayBuffer();
    await expect
      .poll(async () => (await footprints(brief, [probe]))[0]!.keys, { timeout: 60_000, interval: 500 })
      .toBe(0);
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
      const [f] = await footprints(worker, [msg.requestId]);
      console.log(
        `[retention] record after a 100 kB backend answer: ${record.length} B of JSON, ${f!.bytes} B SQLite`,
      );
      expect(record.length).toBeLessThan(4096);
      expect(f!.keys).toBe(1);
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
    const stored = total(await footprints(limited, ids));
    const accepted = statuses.filter((s) => s === 200).length;
    console.log(
      `[retention] ${ids.length} cancels from one key at ${LIMIT}/60 s: ${accepted} accepted, ` +
        `${statuses.filter((s) => s === 429).length} refused (429), ${stored.objectsWithData} objects stored`,
    );
    // Fixed windows: a burst well within one period touches at most two of them.
    expect(accepted).toBeGreaterThanOrEqual(LIMIT);
    expect(accepted).toBeLessThanOrEqual(2 * LIMIT);
    expect(stored.objectsWithData).toBe(accepted);
    expect(statuses.every((s) => s === 200 || s === 429)).toBe(true);
  });
});
