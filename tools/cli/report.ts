// `npm run model:report -- [model-dir]`: recomputes, from the committed artifacts alone, what the model is: each
// exit's accuracy and MAC share on the Fashion-MNIST test split (or `--data <dir>`), how far the chained block files
// drift from the single exported model (max |Δlogit| over every exit and sample), and what each split point sends:
// the input as uint8 pixels (server-only), every activation as raw fp32 and as coded by the profiled codecs.
// Prints tables, then one JSON line for machines.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import Table from 'cli-table3';
import { parseManifest, sendsPixels, type ModelManifest } from '../../core/manifest.js';
import { fashionMnistImages, loadFashionMnist } from '../dataset/fashion-mnist.js';
import { firstOf, type LabelledImages } from '../dataset/labelled-images.js';
import { loadDataset } from '../dataset/load-dataset.js';
import { buildExitTable } from '../profile/exit-table.js';
import { compareWithSource } from '../profile/source-compare.js';
import { exitAccuracies } from '../profile/threshold-profile.js';
import { nodeSessions, nodeTensor } from '../runtime/node-sessions.js';
import { progressBar } from './progress.js';

const program = new Command()
  .name('model:report')
  .argument('[model-dir]', 'folder holding manifest.json', 'models/resnet56-fmnist')
  .option('--data <dir>', 'IDX pair or folder of class sub-folders (default: Fashion-MNIST test split)')
  .option('--sample', 'use the committed 1000-image sample instead of the full test split')
  .option('--limit <n>', 'only the first n test images', (v) => Number(v))
  .parse();
const dir = program.args[0] ?? 'models/resnet56-fmnist';
const opts = program.opts<{ data?: string; sample?: boolean; limit?: number }>();

const manifest = parseManifest(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')));
if (!manifest.source) throw new Error('manifest has no source model to compare the chained blocks with');
let ds: LabelledImages;
if (opts.data) {
  const d = loadDataset(opts.data);
  ds = d.test ?? d.train;
} else {
  ds = fashionMnistImages(loadFashionMnist('test', { requireFull: !opts.sample }));
}
if (opts.limit) ds = firstOf(ds, opts.limit);
const compare = await compareWithSource(
  join(dir, manifest.source.file),
  manifest,
  manifest.source.outputs.map((name, e) => [name, e]),
);
const bar = progressBar('report', ds.count);
const table = await buildExitTable(manifest, nodeSessions(dir, manifest), nodeTensor, ds, {
  onProgress: (n) => bar.update(n),
  onBatch: (from, count, input, logits) => compare.onBatch(from, count, input, logits),
});
bar.stop();
await compare.release();
const maxAbsDiff = compare.maxAbsDiff;
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
  `${manifest.id}: ${manifest.blocks.length} blocks, ${manifest.exits.length} exits, ${manifest.splits.length} split points; ${ds.count} images of ${ds.name}`,
);
console.log(t.toString());
console.log(`chained blocks vs single exported model: max |Δlogit| = ${maxAbsDiff.toExponential(2)}`);

const bytes = splitBytes(manifest);
const inputBytes = manifest.input.shape.slice(1).reduce((a, b) => a * b, 1);
const bt = new Table({
  head: ['split', 'sends', 'shape', 'raw fp32 B', 'sent as', 'lossless B', 'q8 B', 'q6 B', 'q4 B'],
});
for (const s of bytes)
  bt.push([
    s.split,
    s.pixels ? 'input pixels' : `block ${s.split - 1} output`,
    s.shape.join('×'),
    s.fp32Bytes,
    s.pixels ? `u8: ${s.u8Bytes} B` : 'coded',
    ...['lossless', 'q8', 'q6', 'q4'].map((k) => (s.coded[k] !== undefined ? Math.round(s.coded[k]!) : '-')),
  ]);
console.log(`input: ${manifest.input.shape.slice(1).join('×')} = ${inputBytes} bytes as uint8 pixels`);
console.log(bt.toString());
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
    inputBytes,
    splitBytes: bytes.map((s) => ({
      split: s.split,
      fp32: s.fp32Bytes,
      ...(s.pixels ? { u8: s.u8Bytes } : {}),
      coded: Object.fromEntries(Object.entries(s.coded).map(([k, v]) => [k, Math.round(v)])),
    })),
    splitPoints: manifest.splits.length,
    samples: ds.count,
  }),
);

/** Per split: raw fp32 bytes, u8 bytes when the input travels as pixels, mean coded bytes per profiled codec. */
function splitBytes(m: ModelManifest) {
  return m.splits.map((s) => {
    const coded: Record<string, number> = {};
    for (const e of m.profile?.codec?.entries ?? []) {
      if (e.split !== s.split || (e.scheme === 'quant' && (e.granularity ?? 'tensor') !== 'tensor')) continue;
      coded[e.scheme === 'quant' ? `q${e.bits}` : 'lossless'] = e.meanBytes;
    }
    const shape = s.tensor.shape.slice(1);
    return {
      split: s.split,
      shape,
      fp32Bytes: s.fp32Bytes,
      pixels: sendsPixels(m, s.split),
      u8Bytes: shape.reduce((a, b) => a * b, 1),
      coded,
    };
  });
}
