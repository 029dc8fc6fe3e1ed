// `npm run demo`: the whole SPINN path on this machine. Starts the inference backend and the edge worker
// (`wrangler dev`, local workerd) on loopback, runs a few client "devices" (the client library on onnxruntime-web)
// over the committed Fashion-MNIST sample with a mix of plans, prints one row per request and a summary, and shuts
// everything down. `--json` ends with the summary as one JSON line. `--serve` instead keeps the stack up and prints
// the URL of the live demo page (demo/web/, served by the edge) until Ctrl-C.

import { Command } from 'commander';
import Table from 'cli-table3';
import * as ortNode from 'onnxruntime-node';
import { existsSync, readFileSync } from 'node:fs';
import { codecLabel } from '../core/codec-spec.js';
import { shouldExit, softmax, top1 } from '../core/exit-policy.js';
import { parseManifest } from '../core/manifest.js';
import { preprocessGray } from '../core/preprocess.js';
import { SpinnClient, type ClassifyResult, type ExecutionPlan } from '../client/index.js';
import { loadOrtWebForNode } from '../client/node/ort-node.js';
import { loadFashionMnist } from '../tools/dataset/fashion-mnist.js';
import { startStack } from '../harness/stack.js';

const program = new Command()
  .name('demo')
  .option(
    '--model <id>',
    'model to run (a folder under models/ that wrangler.toml MODELS lists)',
    'resnet56-fmnist',
  )
  .option('--images <n>', 'how many sample images to classify', (v) => Number(v), 60)
  .option('--devices <n>', 'client devices running side by side (each a SpinnClient)', (v) => Number(v), 3)
  .option('--json', 'print the summary as one JSON line at the end')
  .option('--quiet', 'omit the per-request table')
  .option('--serve', 'keep the stack up and print the demo page URL (stop with Ctrl-C)')
  .option('--port <n>', 'with --serve: the edge port (default: a free one)', (v) => Number(v))
  .parse();
const opts = program.opts<{
  model: string;
  images: number;
  devices: number;
  json?: boolean;
  quiet?: boolean;
  serve?: boolean;
  port?: number;
}>();
if (!Number.isInteger(opts.images) || opts.images < 1) program.error('--images must be a positive integer');
if (!Number.isInteger(opts.devices) || opts.devices < 1 || opts.devices > 8)
  program.error('--devices must be 1..8');

const MODEL = opts.model;
const MODEL_DIR = new URL(`../models/${MODEL}/`, import.meta.url).pathname;
if (!/^[a-z0-9][a-z0-9._-]*$/.test(MODEL) || !existsSync(`${MODEL_DIR}manifest.json`))
  program.error(`--model: no models/${MODEL}/manifest.json`);
const manifest = parseManifest(JSON.parse(readFileSync(`${MODEL_DIR}manifest.json`, 'utf8')));
const N = manifest.blocks.length;

// A spread of plans: server-only, early/middle/late splits with and without early exits, and device-only. Splits
// sit at the same depth shares for every model (for resnet56-fmnist's 28 blocks: 5, 9, 13 and 3).
const at = (share: number) => {
  const want = Math.round(share * N);
  return manifest.splits.reduce((b, s) => (Math.abs(s.split - want) < Math.abs(b - want) ? s.split : b), 0);
};
const PLANS: ExecutionPlan[] = [
  { split: 0, threshold: 0.9 },
  { split: at(5 / 28), threshold: 0.9 },
  { split: at(9 / 28), threshold: 0.95 },
  { split: at(13 / 28), threshold: 0.99 },
  { split: at(3 / 28), threshold: 1 },
  { split: N, threshold: 0.9 },
];

const log = (msg: string) => process.stderr.write(`${msg}\n`);
const ds = loadFashionMnist('test', { limit: opts.images });
if (ds.count < opts.images) log(`only ${ds.count} images available; using them all`);

/** What the model itself answers for an image under a threshold (single exported model + core's exit rule). */
async function referenceAnswers(thresholds: number[]): Promise<Array<{ label: number; exit: number }>> {
  const session = await ortNode.InferenceSession.create(`${MODEL_DIR}${manifest.source!.file}`);
  const out: Array<{ label: number; exit: number }> = [];
  for (let i = 0; i < ds.count; i++) {
    const x = preprocessGray(ds.images.subarray(i * 784, (i + 1) * 784), manifest.input);
    const res = await session.run({
      [manifest.input.name]: new ortNode.Tensor('float32', x, [1, ...manifest.input.shape.slice(1)]),
    });
    for (let e = 0; e < manifest.exits.length; e++) {
      const { label, confidence } = top1(softmax(res[manifest.source!.outputs[e]!]!.data as Float32Array));
      if (shouldExit(confidence, thresholds[i]!, e === manifest.exits.length - 1)) {
        out.push({ label, exit: e });
        break;
      }
    }
  }
  return out;
}

function quantile(xs: number[], q: number): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}

async function backendCancels(url: string, token: string): Promise<Record<string, number>> {
  const text = await (
    await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${token}` } })
  ).text();
  const counts: Record<string, number> = {};
  for (const m of text.matchAll(/^spinn_backend_cancels_total\{state="([^"]+)"\} (\S+)$/gm))
    counts[m[1]!] = Number(m[2]);
  return counts;
}

log('starting backend and wrangler dev …');
const stack = await startStack(opts.port ? { edgePort: opts.port } : {});
if (opts.serve) {
  console.log(
    `SPINN-TS demo page: ${stack.edge.url}/#key=${stack.apiKey}  (edge API ${stack.edge.url}/v1 with that API key, backend ${stack.backend.url})`,
  );
  log('serving until Ctrl-C …');
  // `on`, not `once`: Ctrl-C reaches both tsx and this process, and tsx relays it, so a second signal must not
  // kill the process before the stack is stopped.
  await new Promise<void>((resolve) => {
    process.on('SIGINT', () => resolve());
    process.on('SIGTERM', () => resolve());
  });
  log('stopping …');
  await stack.stop();
  process.exit(0);
}
let exitCode = 0;
try {
  log(`backend ${stack.backend.url}, edge ${stack.edge.url}`);
  const ort = await loadOrtWebForNode({ numThreads: 1 });
  const devices = Array.from(
    { length: opts.devices },
    () =>
      new SpinnClient({
        edgeUrl: stack.edge.url,
        apiKey: stack.apiKey,
        modelId: MODEL,
        ort,
        followEdgePlan: false,
        preload: 'all',
      }),
  );
  log(`loading the model on ${devices.length} device(s) from the edge …`);
  await Promise.all(devices.map((d) => d.manifest()));

  const planOf = (i: number) => PLANS[i % PLANS.length]!;
  const results: Array<ClassifyResult & { image: number }> = [];
  const started = performance.now();
  await Promise.all(
    devices.map(async (device, d) => {
      for (let i = d; i < ds.count; i += devices.length) {
        const r = await device.classify(ds.images.subarray(i * 784, (i + 1) * 784), { plan: planOf(i) });
        results.push({ ...r, image: i });
      }
    }),
  );
  const wallMs = performance.now() - started;
  await Promise.all(devices.map((d) => d.dispose()));
  results.sort((a, b) => a.image - b.image);

  const reference = await referenceAnswers(results.map((r) => r.plan.threshold));
  const cancels = await backendCancels(stack.backend.url, stack.token);

  if (!opts.quiet) {
    const t = new Table({
      head: [
        'img',
        'plan s/thr/codec',
        'exit',
        'decided by',
        'label',
        'bytes sent',
        'device ms',
        'net ms',
        'server ms',
        'total ms',
      ],
      style: { head: [], border: [], compact: true },
    });
    const f = (x: number | null) => (x === null ? '-' : x.toFixed(1));
    for (const r of results) {
      const ok = r.label === ds.labels[r.image];
      t.push([
        r.image,
        `${r.plan.split}/${r.plan.threshold}${r.plan.codec && r.bytesSent ? `/${codecLabel(r.plan.codec)}` : ''}`,
        r.exit,
        r.decidedBy + (r.cancelledServer ? ' ✂' : ''),
        `${r.className}${ok ? '' : ' ✗'}`,
        r.bytesSent,
        f(r.timings.deviceMs + r.timings.localAfterSplitMs),
        f(r.timings.uploadMs),
        f(r.timings.serverMs),
        f(r.timings.totalMs),
      ]);
    }
    console.log(t.toString());
    console.log('✂ = the client cancelled the server request (DELETE /v1/requests/:id); ✗ = wrong label');
  }

  const count = (k: ClassifyResult['decidedBy']) => results.filter((r) => r.decidedBy === k).length;
  const correct = results.filter((r) => r.label === ds.labels[r.image]).length;
  const refCorrect = reference.filter((a, i) => a.label === ds.labels[i]).length;
  const agree = results.filter((r, i) => r.label === reference[i]!.label).length;
  const profiled =
    results.reduce(
      (s, r) =>
        s + (manifest.profile!.thresholds.find((t) => t.threshold === r.plan.threshold)?.accuracy ?? NaN),
      0,
    ) / results.length;
  const totals = results.map((r) => r.timings.totalMs);
  const backendCancelled = (cancels['running'] ?? 0) + (cancels['queued'] ?? 0);
  const summary = {
    requests: ds.count,
    answered: results.length,
    accuracy: correct / results.length,
    referenceAccuracy: refCorrect / results.length,
    agreementWithReference: agree / results.length,
    profiledAccuracy: profiled,
    localExits: count('device') + count('device-race'),
    serverAnswers: count('server'),
    fallbacks: count('device-fallback'),
    cancelled: backendCancelled,
    clientCancels: results.filter((r) => r.cancelledServer).length,
    backendCancels: cancels,
    bytesSentMean: results.reduce((s, r) => s + r.bytesSent, 0) / results.length,
    /** What the same offloads would have carried as raw fp32 activations, and the codecs the clients used. */
    fp32BytesMean:
      results.reduce(
        (s, r) =>
          s + (r.bytesSent ? (manifest.splits.find((x) => x.split === r.plan.split)?.fp32Bytes ?? 0) : 0),
        0,
      ) / results.length,
    codecs: results.reduce<Record<string, number>>((acc, r) => {
      if (r.bytesSent && r.plan.codec)
        acc[codecLabel(r.plan.codec)] = (acc[codecLabel(r.plan.codec)] ?? 0) + 1;
      return acc;
    }, {}),
    latencyMsP50: quantile(totals, 0.5),
    latencyMsP95: quantile(totals, 0.95),
    wallMs: Math.round(wallMs),
    devices: devices.length,
    dataset:
      ds.source === 'debian' ? 'fashion-mnist test split (first images)' : 'committed fashion-mnist sample',
  };
  const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
  console.log(
    `\n${summary.answered}/${summary.requests} answered in ${(wallMs / 1000).toFixed(1)} s by ${devices.length} devices; ` +
      `accuracy ${pct(summary.accuracy)} (the model alone on the same images and thresholds: ${pct(summary.referenceAccuracy)}, ` +
      `same answer ${pct(summary.agreementWithReference)}; 10k-image profile for these thresholds: ${pct(profiled)})`,
  );
  console.log(
    `decided on the device: ${count('device')} before the split, ${count('device-race')} racing after it; by the server: ` +
      `${summary.serverAnswers}; fallbacks: ${summary.fallbacks}. Server work cancelled (backend's count): ${backendCancelled} ` +
      `(${cancels['running'] ?? 0} while running, ${cancels['queued'] ?? 0} while queued; ${cancels['finished'] ?? 0} cancels arrived after it finished).`,
  );
  console.log(
    `latency p50 ${summary.latencyMsP50.toFixed(1)} ms, p95 ${summary.latencyMsP95.toFixed(1)} ms; mean bytes sent ${summary.bytesSentMean.toFixed(0)}`,
  );
  if (summary.answered !== summary.requests) exitCode = 1;
  if (opts.json) console.log(JSON.stringify(summary));
} finally {
  await stack.stop();
}
process.exit(exitCode);
