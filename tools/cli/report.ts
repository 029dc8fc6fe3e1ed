// `npm run model:report`: recomputes, from the committed artifacts alone, what the model is: each exit's accuracy
// and MAC share on the Fashion-MNIST test split, and how far the chained block files drift from the single
// exported model (max |Δlogit| over every exit and sample). Prints a table, then one JSON line for machines.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import Table from 'cli-table3';
import * as ort from 'onnxruntime-node';
import { parseManifest } from '../../core/manifest.js';
import { loadFashionMnist } from '../dataset/fashion-mnist.js';
import { buildExitTable } from '../profile/exit-table.js';
import { exitAccuracies } from '../profile/threshold-profile.js';
import { nodeSessions, nodeTensor } from '../runtime/node-sessions.js';
import { progressBar } from './progress.js';

const program = new Command()
  .name('model:report')
  .argument('[model-dir]', 'folder holding manifest.json', 'models/resnet56-fmnist')
  .option('--sample', 'use the committed 1000-image sample instead of the full test split')
  .option('--limit <n>', 'only the first n test images', (v) => Number(v))
  .parse();
const dir = program.args[0] ?? 'models/resnet56-fmnist';
const opts = program.opts<{ sample?: boolean; limit?: number }>();

const manifest = parseManifest(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')));
if (!manifest.source) throw new Error('manifest has no source model to compare the chained blocks with');
const ds = loadFashionMnist('test', {
  requireFull: !opts.sample,
  ...(opts.limit ? { limit: opts.limit } : {}),
});
const source = await ort.InferenceSession.create(join(dir, manifest.source.file), {
  executionProviders: ['cpu'],
});

let maxAbsDiff = 0;
const bar = progressBar('report', ds.count);
const table = await buildExitTable(manifest, nodeSessions(dir, manifest), nodeTensor, ds.images, ds.labels, {
  onProgress: (n) => bar.update(n),
  async onBatch(_from, count, input, logits) {
    const out = await source.run({
      [manifest.input.name]: new ort.Tensor('float32', input, [count, ...manifest.input.shape.slice(1)]),
    });
    manifest.source!.outputs.forEach((name, e) => {
      const ref = out[name]!.data as Float32Array;
      const got = logits[e]!;
      for (let i = 0; i < ref.length; i++) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(ref[i]! - got[i]!));
    });
  },
});
bar.stop();
const acc = exitAccuracies(table);

const t = new Table({ head: ['exit', 'after block', 'MACs share', 'head MACs', 'accuracy'] });
manifest.exits.forEach((e, i) =>
  t.push([
    e.final ? `${i} (final)` : String(i),
    e.afterBlock,
    `${(e.macsFraction * 100).toFixed(1)} %`,
    e.macs.toLocaleString('en'),
    `${(acc[i]! * 100).toFixed(2)} %`,
  ]),
);
console.log(
  `${manifest.id}: ${manifest.blocks.length} blocks, ${manifest.exits.length} exits, ${manifest.splits.length} split points; ${ds.count} test images (${ds.source === 'debian' ? 'official test split' : 'committed sample'})`,
);
console.log(t.toString());
console.log(`chained blocks vs single exported model: max |Δlogit| = ${maxAbsDiff.toExponential(2)}`);
console.log(
  JSON.stringify({
    model: manifest.id,
    blocks: manifest.blocks.length,
    exits: manifest.exits.map((e, i) => ({
      afterBlock: e.afterBlock,
      macsFraction: Number(e.macsFraction.toFixed(4)),
      accuracy: acc[i],
    })),
    finalAccuracy: acc.at(-1),
    chainMaxAbsDiff: maxAbsDiff,
    splitPoints: manifest.splits.length,
    samples: ds.count,
  }),
);
