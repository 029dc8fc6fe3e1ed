// The emulated device: a child process that runs the real client library (SpinnClient on onnxruntime-web, one wasm
// thread) against the edge through the emulated link, while the runner holds it in a CPU-quota cgroup — the whole
// process (device model 'process') or only its inference thread (device model 'nn', ort-thread.ts). Every cell
// gets a fresh client (no scheduler state carried between cells) over sessions shared in the process
// (ort-shared.ts). It loads the client unthrottled (loading is setup), says 'ready', and runs the job only after
// the runner has throttled it and said 'go'. Model files are read from models/ on disk, the manifest from
// SPINN_MANIFEST_DIR (the calibration-half profile the edge also schedules with): downloads are setup, not the link
// under test.

import { readFile } from 'node:fs/promises';
// The Node entry's client (its defaults: node:http and node:zlib), as a Node device would run it.
import { MemoryModelCache, SpinnClient, nodeFetch, type ClassifyResult } from '../../client/node/index.js';
import { loadOrtWebForNode } from '../../client/node/ort-node.js';
import { loadFashionMnist } from '../../tools/dataset/fashion-mnist.js';
import type { DeviceJob, FromDevice, RequestRecord, ToDevice } from './device-protocol.js';
import { sharedSessions } from './ort-shared.js';
import { startThreadOrt } from './ort-thread.js';
import { TEST_IMAGES } from './grid.js';

const edgeUrl = process.env.SPINN_EDGE_URL!;
const apiKey = process.env.SPINN_API_KEY || undefined;
const modelId = process.env.SPINN_MODEL ?? 'resnet56-fmnist';
const manifestDir = process.env.SPINN_MANIFEST_DIR;
const threaded = process.env.SPINN_DEVICE_MODEL === 'nn';
const ds = loadFashionMnist('test', { limit: TEST_IMAGES });
const thread = threaded ? await startThreadOrt() : undefined;
const ort = sharedSessions(thread?.ort ?? (await loadOrtWebForNode({ numThreads: 1 })));
const cache = new MemoryModelCache();
let warmedUp = false;

const MODELS = new URL('../../models/', import.meta.url).pathname;

/**
 * fetch for the client: the edge's model routes from disk, everything else over the (emulated) network with the Node
 * client's own transport (client/node/node-fetch.ts, what `@spinn-ts/client` uses in Node).
 */
const deviceFetch: typeof fetch = async (input, init) => {
  const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
  const m = /^\/v1\/models\/([^/]+)\/(manifest|files\/(.+))$/.exec(url.pathname);
  if (!m) return nodeFetch(url, init);
  const file = m[2] === 'manifest' ? 'manifest.json' : decodeURIComponent(m[3]!);
  if (file.includes('..')) throw new TypeError(`bad model path ${file}`);
  const dir = m[2] === 'manifest' && manifestDir ? `${manifestDir}/` : MODELS;
  return new Response(await readFile(`${dir}${m[1]}/${file}`));
};

const send = (m: FromDevice) => process.send!(m);
const gates = new Map<number, (untilEpochMs?: number) => void>();
const pixels = (i: number) => ds.images.subarray(i * 784, (i + 1) * 784);

function newClient(job: DeviceJob, steps: { block: number[]; exit: number[] }) {
  const client = new SpinnClient({
    edgeUrl,
    ...(apiKey ? { apiKey } : {}),
    modelId,
    fetch: deviceFetch,
    ort,
    // Device model 'nn': sessions run in a worker thread, so a plan request's round trip is not inflated by them.
    computeOffThread: threaded,
    cache,
    preload: 'all',
    // Shared sessions are warm after the first client; warming them again would only cost setup time.
    warmup: !warmedUp,
    offloadTimeoutMs: job.offloadTimeoutMs,
    localContinuation: job.localContinuation,
    cancelTimeoutMs: 1000,
    ...(job.sla ? { sla: job.sla } : {}),
    ...(job.plan ? { plan: job.plan, followEdgePlan: false } : {}),
    ...(job.steps ? { onStep: (s) => void (steps[s.kind][s.index] = s.ms) } : {}),
  });
  warmedUp = true;
  return client;
}

/** Says 'ready' and waits for 'go' (the runner throttles in between); resolves with the go's deadline, if any. */
async function ready(id: number): Promise<number | undefined> {
  const go = new Promise<number | undefined>((r) => gates.set(id, r));
  send({ op: 'ready', id });
  return go;
}

function record(image: number, at: number, r: ClassifyResult): RequestRecord {
  const seen = r.schedule?.plan.seen;
  return {
    image,
    at,
    answered: true,
    correct: r.label === ds.labels[image],
    exit: r.exit,
    decidedBy: r.decidedBy,
    split: r.plan.split,
    threshold: r.plan.threshold,
    totalMs: r.timings.totalMs,
    deviceMs: r.timings.deviceMs + r.timings.localAfterSplitMs,
    serverMs: r.timings.serverMs,
    queueMs: r.timings.queueMs,
    roundTripMs: r.timings.roundTripMs,
    serverBlocksRun: r.blocks.server,
    bytesSent: r.bytesSent,
    ...(r.offloadError ? { error: `${r.offloadError.reason}: ${r.offloadError.message}`.slice(0, 200) } : {}),
    ...(r.schedule ? { planSource: r.schedule.source } : {}),
    ...(seen
      ? {
          seen: {
            deviceScale: seen.deviceScale,
            bandwidthBps: seen.bandwidthBps,
            rttMs: seen.rttMs,
            ...(seen.offloadOverheadMs !== undefined ? { offloadOverheadMs: seen.offloadOverheadMs } : {}),
          },
        }
      : {}),
    ...(r.schedule?.plan.estimate ? { estimatedMs: r.schedule.plan.estimate.latencyMs } : {}),
  };
}

const unanswered = (image: number, at: number, ms: number, error: string): RequestRecord => ({
  image,
  at,
  answered: false,
  correct: false,
  exit: -1,
  decidedBy: 'none',
  split: -1,
  threshold: -1,
  totalMs: ms,
  deviceMs: 0,
  serverMs: null,
  queueMs: null,
  roundTripMs: null,
  bytesSent: 0,
  error,
});

async function classifyBounded(client: SpinnClient, image: number, hangMs: number) {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<'hung'>((r) => (timer = setTimeout(() => r('hung'), hangMs)));
  const r = await Promise.race([client.classify(pixels(image)), hang]).catch((e: unknown) => e);
  clearTimeout(timer);
  return r;
}

async function run(id: number, job: DeviceJob): Promise<void> {
  const steps = { block: [] as number[], exit: [] as number[] };
  const client = newClient(job, steps);
  await client.load();
  const until = (await ready(id)) ?? job.untilEpochMs;
  for (const image of job.warmupImages) await classifyBounded(client, image, job.hangMs);
  const records: RequestRecord[] = [];
  const wallStart = performance.now();
  for (let k = 0; ; k++) {
    if (until === undefined ? k >= job.images.length : Date.now() > until) break;
    const image = job.images[k % job.images.length]!;
    steps.block = [];
    steps.exit = [];
    const at = Date.now();
    const t0 = performance.now();
    const r = await classifyBounded(client, image, job.hangMs);
    if (r && typeof r === 'object' && 'decidedBy' in r) {
      const rec = record(image, at, r as ClassifyResult);
      if (job.steps) rec.stepMs = { block: steps.block, exit: steps.exit };
      records.push(rec);
    } else
      records.push(
        unanswered(image, at, performance.now() - t0, r === 'hung' ? 'hung' : String(r).slice(0, 200)),
      );
    if (job.progress) send({ op: 'progress', id, done: k + 1 });
  }
  const wallMs = performance.now() - wallStart;
  send({ op: 'result', id, records, wallMs });
  // A hung classify would block dispose forever; the device process is replaced in that case.
  if (records.every((r) => r.error !== 'hung')) await client.dispose();
}

process.on('message', (m: ToDevice) => {
  if (m.op === 'go') gates.get(m.id)?.(m.untilEpochMs);
  else if (m.op === 'exit') process.exit(0);
  else {
    run(m.id, m.job).catch((e: unknown) =>
      send({ op: 'error', id: m.id, message: e instanceof Error ? (e.stack ?? e.message) : String(e) }),
    );
  }
});
send({ op: 'ready', id: -1, ...(thread ? { tid: thread.tid } : {}) });
