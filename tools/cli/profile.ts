// `npm run model:profile -- [model-dir]`: the offline profiler. Measures on the Fashion-MNIST test split the exit
// rates and accuracy over a threshold grid, and per-block latency with onnxruntime-node (server estimate) and
// onnxruntime-web (device), and per split point and codec the encoded bytes, codec time and accuracy change
// (tools/profile/codec-profile.ts), then writes them into the manifest's `profile`.

import { readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { parseManifest } from '../../core/manifest.js';
import { preprocessGray } from '../../core/preprocess.js';
import { loadFashionMnist } from '../dataset/fashion-mnist.js';
import { profileCodec } from '../profile/codec-profile.js';
import { buildExitTable } from '../profile/exit-table.js';
import { measureLatency } from '../profile/latency-profile.js';
import { exitAccuracies, thresholdProfile } from '../profile/threshold-profile.js';
import { nodeSessions, nodeTensor } from '../runtime/node-sessions.js';
import { webSessions, webTensor } from '../runtime/web-sessions.js';
import { progressBar } from './progress.js';

const program = new Command()
  .name('model:profile')
  .argument('[model-dir]', 'folder holding manifest.json', 'models/resnet56-fmnist')
  .option('--limit <n>', 'profile only the first n test images', (v) => Number(v))
  .option('--repeats <n>', 'timed runs per block for latency medians', (v) => Number(v), 30)
  .option(
    '--server-threads <n>',
    'onnxruntime-node intra-op threads for the server estimate',
    (v) => Number(v),
    2,
  )
  .option('--batch <n>', 'batch size of the accuracy pass', (v) => Number(v), 250)
  .option('--no-latency', 'skip the latency measurements (keeps the ones already in the manifest)')
  .option('--no-codec', 'skip the codec profile (keeps the one already in the manifest)')
  .option('--codec-only', 'profile the codec only; keep the rest of the profile as it is')
  .option('--codec-limit <n>', 'measure the codec accuracy change on the first n test images', (v) =>
    Number(v),
  )
  .option('--codec-size-samples <n>', 'images whose activations are timed and sized', (v) => Number(v), 500)
  .option('--granularity <g>', 'quantisation scales: tensor or channel', 'tensor')
  .parse();

const dir = program.args[0] ?? 'models/resnet56-fmnist';
const opts = program.opts<{
  limit?: number;
  repeats: number;
  serverThreads: number;
  batch: number;
  latency: boolean;
  codec: boolean;
  codecOnly?: boolean;
  codecLimit?: number;
  codecSizeSamples: number;
  granularity: 'tensor' | 'channel';
}>();
if (opts.granularity !== 'tensor' && opts.granularity !== 'channel')
  program.error('--granularity: tensor or channel');
const manifestPath = join(dir, 'manifest.json');
const manifest = parseManifest(JSON.parse(readFileSync(manifestPath, 'utf8')));
const ds = loadFashionMnist('test', opts.limit ? { limit: opts.limit } : {});
if (ds.source === 'sample')
  console.error(`warning: Debian's dataset-fashion-mnist is missing; profiling the ${ds.count}-image sample`);

const sessions = nodeSessions(dir, manifest);
const previous = manifest.profile;
if (opts.codecOnly && !previous) program.error('--codec-only needs a manifest that already has a profile');
let table;
if (!opts.codecOnly) {
  const bar = progressBar('accuracy pass', ds.count);
  table = await buildExitTable(manifest, sessions, nodeTensor, ds.images, ds.labels, {
    batch: opts.batch,
    onProgress: (n) => bar.update(n),
  });
  bar.stop();
}
const thresholds = table ? thresholdProfile(table) : previous!.thresholds;
let codec = previous?.codec;
if (opts.codec || opts.codecOnly) {
  const count = Math.min(ds.count, opts.codecLimit ?? ds.count);
  const bar = progressBar('codec pass (every split × q4/q6/q8)', count);
  const t0 = performance.now();
  const r = await profileCodec(
    manifest,
    sessions,
    nodeTensor,
    ds.images.subarray(0, count * 784),
    ds.labels.subarray(0, count),
    {
      batch: opts.batch,
      sizeSamples: opts.codecSizeSamples,
      granularity: opts.granularity,
      thresholds: thresholds.map((t) => t.threshold),
      onProgress: (n) => bar.update(n),
    },
  );
  bar.stop();
  console.error(`codec pass: ${count} images in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  codec = {
    host: `${cpus()[0]?.model.trim() ?? 'unknown CPU'} (${cpus().length} cores visible)`,
    runtime: `node ${process.version}, onnxruntime-node cpu`,
    measuredAt: new Date().toISOString(),
    accuracySamples: r.accuracySamples,
    sizeSamples: r.sizeSamples,
    entries: r.entries,
  };
}
let latency = previous?.latency ?? [];
if (opts.latency && !opts.codecOnly) {
  const sample = preprocessGray(ds.images.subarray(0, 784), manifest.input.preprocessing!);
  const total = manifest.blocks.length + manifest.exits.length;
  const b1 = progressBar('latency onnxruntime-node', total);
  const server = await measureLatency(
    manifest,
    nodeSessions(dir, manifest, { threads: opts.serverThreads }),
    nodeTensor,
    sample,
    {
      runtime: 'onnxruntime-node',
      executionProvider: 'cpu',
      role: 'server-estimate',
      threads: opts.serverThreads,
      repeats: opts.repeats,
      onProgress: (n) => b1.update(n),
    },
  );
  b1.stop();
  const b2 = progressBar('latency onnxruntime-web', total);
  const device = await measureLatency(manifest, webSessions(dir, manifest, 1), webTensor, sample, {
    runtime: 'onnxruntime-web',
    executionProvider: 'wasm',
    role: 'device',
    threads: 1,
    repeats: opts.repeats,
    onProgress: (n) => b2.update(n),
  });
  b2.stop();
  latency = [device, server];
}
const profiled = parseManifest({
  ...manifest,
  profile: {
    dataset: table
      ? {
          name: `fashion-mnist (${ds.source === 'debian' ? 'official test split' : 'committed sample'})`,
          split: 'test',
          samples: ds.count,
        }
      : previous!.dataset,
    exitAccuracy: table ? exitAccuracies(table) : previous!.exitAccuracy,
    thresholds,
    latency,
    ...(codec ? { codec } : {}),
  },
});
writeFileSync(manifestPath, JSON.stringify(profiled, null, 2) + '\n');

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
console.log(
  opts.codecOnly
    ? `codec profiled on ${codec?.accuracySamples} images from ${ds.dir}; the rest of the profile kept`
    : `profiled ${ds.count} images from ${ds.dir}`,
);
console.log('threshold  accuracy  exit fractions');
for (const t of thresholds) {
  console.log(
    `${t.threshold.toFixed(3).padStart(9)}  ${t.accuracy.toFixed(4)}    ${t.exitFraction.map((f) => f.toFixed(3)).join(' ')}`,
  );
}
for (const l of latency)
  console.log(
    `${l.runtime} (${l.role}, ${l.threads} thr): whole model ${sum(l.blockMs).toFixed(2)} ms blocks + ${sum(l.exitMs).toFixed(2)} ms exits`,
  );
console.log(
  JSON.stringify({
    model: manifest.id,
    samples: ds.count,
    accuracyAtThreshold1: thresholds.at(-1)!.accuracy,
    latency: latency.map((l) => ({ runtime: l.runtime, blocksMs: sum(l.blockMs) })),
  }),
);
