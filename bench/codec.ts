// `npm run bench:codec`: what the communication optimiser buys on resnet56-fmnist. For every split point, over the
// first --images test images: mean fp32 bytes, mean encoded bytes per scheme (lossless, q8, q6, q4), zero-bitmap
// vs run-length sizes (why the bitmap), encode/decode ms (median, p95) in Node, and the top-1 accuracy change of the
// whole model per bit-width — read from the manifest's codec profile (`npm run model:profile -- --codec-only`),
// because measuring it takes a run of the rest of the network per split and bit-width. The accuracy-aware choice
// uses that profile at --budget pp. Prints a table, then one JSON line.

import { Command } from 'commander';
import Table from 'cli-table3';
import { Packr } from 'msgpackr';
import type { Tensor } from 'onnxruntime-common';
import { readFileSync } from 'node:fs';
import { bitmapBytes, runLengthBytes } from '../core/codec-bitmap.js';
import { accuracyAwareChoice } from '../core/codec-choice.js';
import { codecLabel, QUANT_BITS, type CodecSpec } from '../core/codec-spec.js';
import { parseManifest } from '../core/manifest.js';
import { decodeTensor, encodeTensor } from '../core/tensor-codec.js';
import { fashionMnistImages, loadFashionMnist } from '../tools/dataset/fashion-mnist.js';
import { preprocessBatch } from '../tools/profile/exit-table.js';
import { nodeSessions, nodeTensor } from '../tools/runtime/node-sessions.js';
import { progressBar } from '../tools/cli/progress.js';

const opts = new Command()
  .option('--images <n>', 'test images whose activations are encoded', (v) => Number(v), 300)
  .option('--budget <pp>', 'accuracy budget of the accuracy-aware choice, pp', (v) => Number(v), 0.3)
  .option('--granularity <g>', 'quantisation scales: tensor or channel', 'tensor')
  .parse()
  .opts<{ images: number; budget: number; granularity: 'tensor' | 'channel' }>();

const dir = new URL('../models/resnet56-fmnist/', import.meta.url).pathname;
const manifest = parseManifest(JSON.parse(readFileSync(`${dir}manifest.json`, 'utf8')));
const profile = manifest.profile?.codec;
if (!profile) {
  console.error('the manifest has no codec profile: run `npm run model:profile -- --codec-only` first');
  process.exit(1);
}
const thresholds = manifest.profile!.thresholds.map((t) => t.threshold);
const ds = loadFashionMnist('test', { limit: opts.images });
const images = fashionMnistImages(ds);
const specs: CodecSpec[] = [
  { scheme: 'lossless' },
  ...[...QUANT_BITS]
    .reverse()
    .map((bits): CodecSpec => ({ scheme: 'quant', bits, granularity: opts.granularity })),
];
const labels = specs.map(codecLabel);
const headerPackr = new Packr({ useRecords: false, moreTypes: false, bundleStrings: false }); // as core/wire.ts

interface Acc {
  bytes: number[];
  /** msgpack bytes of the codec header (scales, counts) that travel beside the payload. */
  header: number[];
  enc: number[];
  dec: number[];
}
const acc = new Map<number, Map<string, Acc>>();
const sparsity = new Map<number, { zeros: number; bitmap: number; rle: number; count: number }>();
for (const s of manifest.splits) {
  acc.set(s.split, new Map(labels.map((l) => [l, { bytes: [], header: [], enc: [], dec: [] }])));
  sparsity.set(s.split, { zeros: 0, bitmap: 0, rle: 0, count: 0 });
}

function measure(split: number, v: Float32Array, shape: number[]) {
  const sp = sparsity.get(split)!;
  let zeros = 0;
  for (const x of v) if (x === 0) zeros++;
  sp.zeros += zeros / v.length;
  sp.bitmap += bitmapBytes(v.length);
  sp.rle += runLengthBytes(v.length, (i) => v[i] !== 0);
  sp.count++;
  specs.forEach((spec, k) => {
    const a = acc.get(split)!.get(labels[k]!)!;
    const t0 = performance.now();
    const e = encodeTensor(v, shape, spec);
    const t1 = performance.now();
    decodeTensor(e);
    a.dec.push(performance.now() - t1);
    a.enc.push(t1 - t0);
    a.bytes.push(e.data.byteLength);
    a.header.push(headerPackr.pack(e.codec).byteLength);
  });
}

const sessions = nodeSessions(dir, manifest);
const splitSet = new Set(manifest.splits.map((s) => s.split));
const bar = progressBar('encoding activations at every split', ds.count);
const batch = 50;
for (let from = 0; from < ds.count; from += batch) {
  const count = Math.min(batch, ds.count - from);
  let x = preprocessBatch(manifest, images, from, count);
  let shape = [count, ...manifest.input.shape.slice(1)];
  for (let b = 0; b <= manifest.blocks.length; b++) {
    if (splitSet.has(b)) {
      const per = x.length / count;
      for (let i = 0; i < count; i++) measure(b, x.slice(i * per, (i + 1) * per), [1, ...shape.slice(1)]);
    }
    if (b === manifest.blocks.length) break;
    const block = manifest.blocks[b]!;
    const out = await (await sessions.block(b)).run({ [block.inputs[0]!.name]: nodeTensor(x, shape) });
    const t = out[block.outputs[0]!.name] as Tensor;
    x = t.data as Float32Array;
    shape = [...t.dims];
  }
  bar.update(from + count);
}
bar.stop();

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const q = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? NaN;
};
const f2 = (x: number) => x.toFixed(2);
const pp = (x: number | undefined) => (x === undefined ? '—' : `${x > 0 ? '+' : ''}${x.toFixed(2)}`);

const table = new Table({
  head: [
    'split',
    'zeros',
    'fp32 B',
    'bitmap/RLE B',
    ...labels.map((l) => `${l} B`),
    'Δacc q8/q6/q4 pp',
    `chosen@${opts.budget}pp`,
    'ratio',
    'enc ms p50/p95',
    'dec ms p50/p95',
    'lossless enc/dec p50',
  ],
  style: { head: [], border: [] },
});
const ratios: number[] = [];
const ratiosWithHeader: number[] = [];
const losslessRatios: number[] = [];
const losses: number[] = [];
const chosenEnc: number[] = [];
const chosenDec: number[] = [];
const rows: unknown[] = [];
for (const s of manifest.splits) {
  const a = acc.get(s.split)!;
  const sp = sparsity.get(s.split)!;
  const entries = profile.entries.filter((e) => e.split === s.split);
  const change = (bits: number) =>
    entries.find(
      (e) => e.scheme === 'quant' && e.bits === bits && (e.granularity ?? 'tensor') === opts.granularity,
    )?.accuracyChangePp;
  const pick = accuracyAwareChoice(
    entries.filter((e) => e.scheme !== 'quant' || (e.granularity ?? 'tensor') === opts.granularity),
    thresholds,
    opts.budget,
  );
  const chosenLabel =
    pick?.scheme === 'quant'
      ? codecLabel({ scheme: 'quant', bits: pick.bits as 4, granularity: opts.granularity })
      : 'lossless';
  const c = a.get(chosenLabel)!;
  const ll = a.get('lossless')!;
  const ratio = s.fp32Bytes / mean(c.bytes);
  ratios.push(ratio);
  ratiosWithHeader.push(s.fp32Bytes / (mean(c.bytes) + mean(c.header)));
  losslessRatios.push(s.fp32Bytes / mean(ll.bytes));
  losses.push(pick?.scheme === 'quant' ? -pick.accuracyChangePp : 0);
  chosenEnc.push(...c.enc);
  chosenDec.push(...c.dec);
  const row = [
    s.split,
    `${((sp.zeros / sp.count) * 100).toFixed(0)}%`,
    s.fp32Bytes,
    `${Math.round(sp.bitmap / sp.count)}/${Math.round(sp.rle / sp.count)}`,
    ...labels.map((l) => Math.round(mean(a.get(l)!.bytes))),
    `${pp(change(8))}/${pp(change(6))}/${pp(change(4))}`,
    chosenLabel,
    ratio.toFixed(1),
    `${f2(q(c.enc, 0.5))}/${f2(q(c.enc, 0.95))}`,
    `${f2(q(c.dec, 0.5))}/${f2(q(c.dec, 0.95))}`,
    `${f2(q(ll.enc, 0.5))}/${f2(q(ll.dec, 0.5))}`,
  ];
  rows.push(row);
  table.push(row as string[]);
}
console.log(
  `resnet56-fmnist, ${ds.count} test images (${ds.source}), Node ${process.version}; Δacc: whole model (final exit), ` +
    `measured by the profiler on ${profile.accuracySamples} test images (${profile.measuredAt.slice(0, 10)})`,
);
console.log(table.toString());
const sum = (xs: number[]) => xs.reduce((x, y) => x + y, 0);
console.log(
  `mean fp32 ${Math.round(mean(manifest.splits.map((s) => s.fp32Bytes)))} B; ` +
    `bitmap ${Math.round(sum([...sparsity.values()].map((v) => v.bitmap / v.count)))} B vs RLE ${Math.round(sum([...sparsity.values()].map((v) => v.rle / v.count)))} B summed over splits (raw, before deflate)`,
);
console.log(
  `chosen ratio counting the codec header too (msgpack, ~${Math.round(mean([...acc.values()].flatMap((m) => m.get('q4')?.header ?? [])))} B for q4): ${mean(ratiosWithHeader).toFixed(2)}`,
);
console.log(
  JSON.stringify({
    bestLosslessRatio: Number(mean(losslessRatios).toFixed(2)),
    chosenRatio: Number(mean(ratios).toFixed(2)),
    accuracyLossPp: Number(Math.max(0, ...losses).toFixed(2)),
    encodeMsP50: Number(q(chosenEnc, 0.5).toFixed(3)),
    decodeMsP50: Number(q(chosenDec, 0.5).toFixed(3)),
  }),
);
