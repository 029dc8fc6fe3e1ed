// The emulated device: a child process that runs the real client library (SpinnClient on onnxruntime-web, one wasm
// thread) against the edge through the emulated link, while the runner holds it in a CPU-quota cgroup. It loads each
// client unthrottled (loading is not what we measure), says 'ready', and runs the job only after the runner has
// throttled it and said 'go'. Model files are read from models/ on disk (the edge serves the same bytes): downloads
// are setup, not the link under test, and this keeps them off the shaped link (kernel mode shapes everything).

import { readFile } from 'node:fs/promises';
import { MemoryModelCache, SpinnClient, type ClassifyResult } from '../../client/index.js';
import { loadOrtWebForNode } from '../../client/node/ort-node.js';
import { loadFashionMnist } from '../../tools/dataset/fashion-mnist.js';
import type { DeviceJob, FromDevice, RequestRecord, ToDevice } from './device-protocol.js';

const edgeUrl = process.env.SPINN_EDGE_URL!;
const apiKey = process.env.SPINN_API_KEY || undefined;
const modelId = process.env.SPINN_MODEL ?? 'resnet56-fmnist';
const ds = loadFashionMnist('test', { limit: Number(process.env.SPINN_IMAGES ?? 1000) });
const ort = await loadOrtWebForNode({ numThreads: 1 });
const cache = new MemoryModelCache();

const MODELS = new URL('../../models/', import.meta.url).pathname;

/** fetch for the client: the edge's model routes from disk, everything else over the (emulated) network. */
const deviceFetch: typeof fetch = async (input, init) => {
  const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
  const m = /^\/v1\/models\/([^/]+)\/(manifest|files\/(.+))$/.exec(url.pathname);
  if (!m) return globalThis.fetch(input, init);
  const file = m[2] === 'manifest' ? 'manifest.json' : decodeURIComponent(m[3]!);
  if (file.includes('..')) throw new TypeError(`bad model path ${file}`);
  return new Response(await readFile(`${MODELS}${m[1]}/${file}`));
};

const send = (m: FromDevice) => process.send!(m);
const gates = new Map<number, (untilEpochMs?: number) => void>();
const pixels = (i: number) => ds.images.subarray(i * 784, (i + 1) * 784);

function newClient(job: DeviceJob) {
  return new SpinnClient({
    edgeUrl,
    ...(apiKey ? { apiKey } : {}),
    modelId,
    fetch: deviceFetch,
    ort,
    cache,
    preload: 'all',
    offloadTimeoutMs: job.offloadTimeoutMs,
    localContinuation: job.localContinuation,
    cancelTimeoutMs: 1000,
    ...(job.sla ? { sla: job.sla } : {}),
    ...(job.plan ? { plan: job.plan, followEdgePlan: false } : {}),
  });
}

/** Says 'ready' and waits for 'go' (the runner throttles in between); resolves with the go's deadline, if any. */
async function ready(id: number): Promise<number | undefined> {
  const go = new Promise<number | undefined>((r) => gates.set(id, r));
  send({ op: 'ready', id });
  return go;
}

function record(image: number, at: number, r: ClassifyResult): RequestRecord {
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
    bytesSent: r.bytesSent,
    ...(r.offloadError ? { error: `${r.offloadError.reason}: ${r.offloadError.message}`.slice(0, 200) } : {}),
    ...(r.schedule ? { planSource: r.schedule.source } : {}),
    ...(r.schedule?.plan.seen
      ? {
          seen: {
            deviceScale: r.schedule.plan.seen.deviceScale,
            bandwidthBps: r.schedule.plan.seen.bandwidthBps,
            rttMs: r.schedule.plan.seen.rttMs,
            ...(r.schedule.plan.seen.offloadOverheadMs !== undefined
              ? { offloadOverheadMs: r.schedule.plan.seen.offloadOverheadMs }
              : {}),
          },
        }
      : {}),
    ...(r.schedule?.plan.estimate ? { estimatedMs: r.schedule.plan.estimate.latencyMs } : {}),
  };
}

async function run(id: number, job: DeviceJob): Promise<void> {
  const client = newClient(job);
  await client.load();
  const until = (await ready(id)) ?? job.untilEpochMs;
  const records: RequestRecord[] = [];
  let wallStart = performance.now();
  for (let k = 0; k < job.images.length; k++) {
    if (k === job.warmup) wallStart = performance.now();
    if (until !== undefined && k >= job.warmup && Date.now() > until) break;
    const image = job.images[k]!;
    const at = Date.now();
    const t0 = performance.now();
    let timer: NodeJS.Timeout | undefined;
    const hang = new Promise<'hung'>((r) => (timer = setTimeout(() => r('hung'), job.hangMs)));
    const r = await Promise.race([client.classify(pixels(image)), hang]).catch((e: unknown) => e);
    clearTimeout(timer);
    if (k < job.warmup) continue;
    if (r && typeof r === 'object' && 'decidedBy' in r) records.push(record(image, at, r as ClassifyResult));
    else
      records.push({
        image,
        at,
        answered: false,
        correct: false,
        exit: -1,
        decidedBy: 'none',
        split: -1,
        threshold: -1,
        totalMs: performance.now() - t0,
        deviceMs: 0,
        serverMs: null,
        queueMs: null,
        roundTripMs: null,
        bytesSent: 0,
        error: r === 'hung' ? 'hung' : String(r).slice(0, 200),
      });
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
send({ op: 'ready', id: -1 });
