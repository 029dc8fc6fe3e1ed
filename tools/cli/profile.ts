// `npm run model:profile -- [model-dir]`: the offline profiler's command line (tools/profile/profile-model.ts does
// the work). Measures on the Fashion-MNIST test split, or on `--data <dir>` (an IDX pair or a folder of class
// sub-folders), and writes the result into the manifest's `profile`.

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { parseManifest } from '../../core/manifest.js';
import { fashionMnistImages, loadFashionMnist } from '../dataset/fashion-mnist.js';
import { firstOf, type LabelledImages } from '../dataset/labelled-images.js';
import { loadDataset } from '../dataset/load-dataset.js';
import { profileModel } from '../profile/profile-model.js';

const program = new Command()
  .name('model:profile')
  .argument('[model-dir]', 'folder holding manifest.json', 'models/resnet56-fmnist')
  .option('--data <dir>', 'IDX pair or folder of class sub-folders (default: Fashion-MNIST test split)')
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
  data?: string;
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
let ds: LabelledImages;
let dataset: { name: string; split: string };
if (opts.data) {
  const d = loadDataset(opts.data);
  ds = d.test ?? d.train;
  dataset = { name: ds.name, split: d.test ? 'test' : 'all' };
} else {
  const f = loadFashionMnist('test');
  if (f.source === 'sample')
    console.error(
      `warning: Debian's dataset-fashion-mnist is missing; profiling the ${f.count}-image sample`,
    );
  ds = fashionMnistImages(f);
  dataset = {
    name: `fashion-mnist (${f.source === 'debian' ? 'official test split' : 'committed sample'})`,
    split: 'test',
  };
}
if (opts.limit) ds = firstOf(ds, opts.limit);

const { manifest: profiled, codecSeconds } = await profileModel(dir, manifest, ds, {
  dataset,
  batch: opts.batch,
  repeats: opts.repeats,
  serverThreads: opts.serverThreads,
  latency: opts.latency,
  codec: opts.codec,
  ...(opts.codecOnly ? { codecOnly: true } : {}),
  ...(opts.codecLimit ? { codecLimit: opts.codecLimit } : {}),
  codecSizeSamples: opts.codecSizeSamples,
  granularity: opts.granularity,
});
writeFileSync(manifestPath, JSON.stringify(profiled, null, 2) + '\n');
if (codecSeconds !== undefined) console.error(`codec pass: ${codecSeconds.toFixed(0)} s`);

const p = profiled.profile!;
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
console.log(
  opts.codecOnly
    ? `codec profiled on ${p.codec?.accuracySamples} images of ${ds.name}; the rest of the profile kept`
    : `profiled ${ds.count} images of ${ds.name}`,
);
console.log('threshold  accuracy  exit fractions');
for (const t of p.thresholds) {
  console.log(
    `${t.threshold.toFixed(3).padStart(9)}  ${t.accuracy.toFixed(4)}    ${t.exitFraction.map((f) => f.toFixed(3)).join(' ')}`,
  );
}
for (const l of p.latency)
  console.log(
    `${l.runtime} (${l.role}, ${l.threads} thr): whole model ${sum(l.blockMs).toFixed(2)} ms blocks + ${sum(l.exitMs).toFixed(2)} ms exits`,
  );
console.log(
  JSON.stringify({
    model: manifest.id,
    samples: ds.count,
    accuracyAtThreshold1: p.thresholds.at(-1)!.accuracy,
    latency: p.latency.map((l) => ({ runtime: l.runtime, blocksMs: sum(l.blockMs) })),
  }),
);
