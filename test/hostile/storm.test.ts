// The hostile storm: a seeded, property-based flood (fast-check) of generated requests at every route of the real
// edge worker (workerd via Miniflare, Durable Object storage on disk) and of the real backend (its own process,
// onnxruntime-node, over HTTP), sent in concurrent batches. Property of every batch: no 5xx, no hang, every error a
// short JSON/msgpack message that leaks nothing — and a real offload mixed into each batch still gets the label the
// original model gives. After the storm: neither service restarted, and the memory and storage they grew is
// reported. `npm run test:hostile` runs this file and the fault test; `npm test` runs them too.
//
// STORM_BATCHES (default 1250 batches of 8: 10,000 generated requests), STORM_SEED (default 20261126) and
// STORM_SHRINK=1 (shrink a failing batch; slow, for debugging) tune it.

import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeTensor } from '../../core/tensor-codec.js';
import { decodeOffload, decodeResult, WIRE_CONTENT_TYPE } from '../../core/wire.js';
import { bearer } from '../../harness/api-keys.js';
import { startBackend, type Service } from '../../harness/stack.js';
import { hostileCases } from '../support/hostile-bodies.js';
import { startWorker, type RunningWorker } from '../support/start-worker.js';
import { descendants, folderBytes, rssBytes, startTicks } from './support/process-stats.js';
import { stormBatch, type StormContext, type StormRequest } from './support/storm-inputs.js';
import { send, type Endpoints } from './support/storm-send.js';
import { knownOffloads, manifest, type KnownOffload } from './support/valid-offloads.js';

const BATCHES = Number(process.env.STORM_BATCHES ?? 1250);
const BATCH = 8;
const SEED = Number(process.env.STORM_SEED ?? 20261126);
const TOKEN = 'storm-backend-token';

let backend: Service;
let worker: RunningWorker;
let storage: string;
let endpoints: Endpoints;
let known: KnownOffload[];
let validSeq = 0;
let validEdgeHeaders: Record<string, string>[];
/** Keys the valid requests rotate through: 4 × 600 per 10 s, far above the storm's pace on any machine. */
const VALID_KEYS = 4;

interface Tally {
  requests: number;
  byStatus: Record<string, number>;
  byCategory: Record<string, number>;
  fiveXX: number;
  hangs: number;
  valid: number;
  validCorrect: number;
  problems: string[];
}
const tally: Tally = {
  requests: 0,
  byStatus: {},
  byCategory: {},
  fiveXX: 0,
  hangs: 0,
  valid: 0,
  validCorrect: 0,
  problems: [],
};

beforeAll(async () => {
  storage = mkdtempSync(join(tmpdir(), 'spinn-storm-do-'));
  backend = await startBackend({ token: TOKEN, workers: 2, threads: 1 });
  // API keys, as the harness makes them: the storm's own, and VALID_KEYS for the valid requests mixed in (taken in
  // turn), so the storm's flood spends its own key's rate limit and in-flight cap, never theirs. One valid request
  // rides on each batch; on a fast machine the storm runs 60+ batches a second, past one key's 600 per 10 s.
  // The edge's backend timeout is set far beyond the storm's own hang limit (HANG_MS): on a starved machine a slow
  // backend would otherwise turn into 504s, a race between load and a deadline; a backend that stops answering is
  // caught as a hang instead. Timeouts are the fault test's subject.
  worker = await startWorker({
    backendUrl: backend.url,
    backendToken: TOKEN,
    persistDir: storage,
    apiKeys: 1 + VALID_KEYS,
    vars: { BACKEND_TIMEOUT_MS: '600000' },
  });
  endpoints = {
    edge: worker.url,
    backend: backend.url,
    backendToken: TOKEN,
    edgeHeaders: bearer(worker.apiKeys[0]!),
  };
  validEdgeHeaders = worker.apiKeys.slice(1).map((k) => bearer(k));
  known = await knownOffloads(6);
}, 180_000);

afterAll(async () => {
  await Promise.allSettled([backend?.stop(), worker?.stop()]);
  if (storage) rmSync(storage, { recursive: true, force: true });
});

/** A real offload through the edge (or straight to the backend): it must answer `done` with the model's label. */
async function validRequest(target: 'edge' | 'backend'): Promise<string | null> {
  const k = known[validSeq++ % known.length]!;
  const requestId = `valid-${validSeq}-${target}`;
  const url = target === 'edge' ? `${endpoints.edge}/v1/infer` : `${endpoints.backend}/infer`;
  const headers: Record<string, string> = { 'content-type': WIRE_CONTENT_TYPE };
  Object.assign(
    headers,
    target === 'edge'
      ? validEdgeHeaders[validSeq % validEdgeHeaders.length]
      : { authorization: `Bearer ${TOKEN}` },
  );
  tally.valid++;
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers,
      body: k.body(requestId) as BodyInit,
      signal: AbortSignal.timeout(30_000),
    });
    const bytes = new Uint8Array(await res.arrayBuffer());
    if (res.status !== 200)
      return `valid ${target} request: HTTP ${res.status} ${new TextDecoder().decode(bytes.subarray(0, 200))}`;
    const r = decodeResult(bytes);
    // The edge's protocol-3 results carry no id (the exchange pairs them); the backend's must echo it.
    const idOk = target === 'edge' ? r.requestId === undefined : r.requestId === requestId;
    if (r.status !== 'done' || r.label !== k.label || r.exit !== k.exit || !idOk)
      return `valid ${target} request answered ${JSON.stringify({ ...r, plan: undefined })}, expected label ${k.label} at exit ${k.exit}`;
    tally.validCorrect++;
    return null;
  } catch (e) {
    return `valid ${target} request failed: ${(e as Error).message}`;
  }
}

function record(r: StormRequest, status: number | string, problem: string | null): void {
  tally.requests++;
  tally.byStatus[status] = (tally.byStatus[status] ?? 0) + 1;
  const cat = `${r.target}:${r.category.replace(/^(infer:known):.*/, '$1')}`;
  tally.byCategory[cat] = (tally.byCategory[cat] ?? 0) + 1;
  if (typeof status === 'number' && status >= 500) tally.fiveXX++;
  if (status === 'hang') tally.hangs++;
  if (problem && tally.problems.length < 20)
    tally.problems.push(`${r.method} ${r.target}${r.path.slice(0, 80)} [${r.category}]: ${problem}`);
}

/** What the services say about a failing batch's offloads: the backend's load and its record of each request. */
async function diagnose(batch: StormRequest[]): Promise<string> {
  const auth = { authorization: `Bearer ${TOKEN}` };
  const get = async (path: string) => {
    try {
      const r = await fetch(`${endpoints.backend}${path}`, {
        headers: auth,
        signal: AbortSignal.timeout(5000),
      });
      return `${r.status} ${(await r.text()).slice(0, 1500)}`;
    } catch (e) {
      return `failed: ${(e as Error).message}`;
    }
  };
  const ids = batch.flatMap((r) => {
    if (!(r.body instanceof Uint8Array) || !r.path.endsWith('infer')) return [];
    try {
      return [decodeOffload(r.body).requestId];
    } catch {
      return [];
    }
  });
  const records = await Promise.all(ids.map(async (id) => `${id}: ${await get(`/requests/${id}`)}`));
  return `backend health: ${await get('/health')}\n${records.join('\n')}\nbackend log: ${backend.log().slice(-3000)}`;
}

/** Bodies over this many bytes may be refused before they are read; the socket may then be closed on them. */
const OVERSIZE = 1024 * 1024;

describe('hostile storm', () => {
  it(`${BATCHES * BATCH} generated requests at every route of both services: no 5xx, no hang, no restart, valid answers right`, async () => {
    let n = 0;
    const ctx: StormContext = {
      templates: known,
      hostile: hostileCases(decodeOffload(known[0]!.body('hostile-template')), () => `h-known-${n++}`),
      modelId: manifest.id,
      files: [...manifest.blocks, ...manifest.exits].map((f) => f.file),
      freshId: () => `h${(n++).toString(36).padStart(8, '0')}`,
      oipRequest: {
        id: 'storm',
        parameters: { threshold: 0.9 },
        inputs: [
          {
            name: manifest.input.name,
            shape: [1, ...manifest.input.shape.slice(1)],
            datatype: 'FP32',
            data: Array.from(
              known[0]!.message.split === 0 ? decodeTensor(known[0]!.message.tensor).values : [],
            ),
          },
        ],
        outputs: [{ name: 'label' }, { name: 'confidence' }],
      },
    };
    const pids = { backend: backend.pid, workerd: descendants(process.pid, 'workerd') };
    expect(pids.workerd.length).toBeGreaterThan(0);
    const started = { backend: startTicks(pids.backend), workerd: pids.workerd.map(startTicks) };
    const rss0 = {
      backend: rssBytes(pids.backend),
      workerd: pids.workerd.reduce((a, p) => a + rssBytes(p), 0),
    };
    const storage0 = folderBytes(storage);
    const t0 = performance.now();
    let batches = 0;

    await fc.assert(
      fc.asyncProperty(stormBatch(ctx, BATCH), async (batch) => {
        const b = batches++;
        const [verdicts, validProblems] = await Promise.all([
          Promise.all(batch.map((r) => send(endpoints, r))),
          Promise.all([validRequest('edge'), ...(b % 4 === 0 ? [validRequest('backend')] : [])]),
        ]);
        const problems: string[] = [];
        verdicts.forEach((v, i) => {
          const r = batch[i]!;
          const size = typeof r.body === 'string' ? r.body.length : (r.body?.byteLength ?? 0);
          // A refused oversized upload may see its socket closed before it reads the 413: that is not an answer
          // missing, the service chose not to read. Any other network failure is.
          const problem = v.status === 'network' && size > OVERSIZE ? null : v.problem;
          record(r, v.status, problem);
          if (problem)
            problems.push(
              `${r.method} ${r.target} ${r.path.slice(0, 60)} [${r.category}] ${size} B: ${problem}`,
            );
        });
        for (const p of validProblems) if (p) problems.push(p);
        if (problems.length) problems.push(await diagnose(batch));
        if (b % 100 === 0)
          console.log(
            `[storm] ${b}/${BATCHES} batches, ${tally.requests} requests, ${((performance.now() - t0) / 1000).toFixed(0)} s`,
          );
        if (problems.length) throw new Error(problems.join('\n'));
      }),
      { seed: SEED, numRuns: BATCHES, endOnFailure: process.env.STORM_SHRINK !== '1' },
    );

    const seconds = (performance.now() - t0) / 1000;
    const health = (await (
      await fetch(`${backend.url}/health`, { headers: { authorization: `Bearer ${TOKEN}` } })
    ).json()) as {
      workerRestarts: number;
    };
    const rss1 = {
      backend: rssBytes(pids.backend),
      workerd: pids.workerd.reduce((a, p) => a + rssBytes(p), 0),
    };
    const summary = {
      seed: SEED,
      requests: tally.requests,
      validRequests: tally.valid,
      validCorrect: tally.validCorrect,
      fiveXX: tally.fiveXX,
      hangs: tally.hangs,
      backendRestarts: startTicks(pids.backend) === started.backend ? 0 : 1,
      inferenceWorkerRestarts: health.workerRestarts,
      workerdRestarts: pids.workerd.filter((p, i) => startTicks(p) !== started.workerd[i]).length,
      seconds: Math.round(seconds),
      rssGrowthMiB: {
        backend: +((rss1.backend - rss0.backend) / 2 ** 20).toFixed(1),
        workerd: +((rss1.workerd - rss0.workerd) / 2 ** 20).toFixed(1),
      },
      rssEndMiB: {
        backend: +(rss1.backend / 2 ** 20).toFixed(1),
        workerd: +(rss1.workerd / 2 ** 20).toFixed(1),
      },
      durableObjectStorageGrowthKiB: Math.round((folderBytes(storage) - storage0) / 1024),
      byStatus: tally.byStatus,
    };
    console.log(`[storm] categories ${JSON.stringify(tally.byCategory)}`);
    console.log(`[storm] ${JSON.stringify(summary)}`);
    expect(tally.problems).toEqual([]);
    expect(summary).toMatchObject({
      fiveXX: 0,
      hangs: 0,
      backendRestarts: 0,
      inferenceWorkerRestarts: 0,
      workerdRestarts: 0,
    });
    expect(tally.validCorrect).toBe(tally.valid);
    expect(tally.requests).toBeGreaterThanOrEqual(Math.min(10_000, BATCHES * BATCH));
  }, 600_000);
});
