// The codec part of the offline profile: for every split point and codec, the mean encoded bytes, encode/decode
// time, and the top-1 accuracy change of the whole model when that split's activations go through the codec.
// Batched: each test batch walks the network once; at every split its activations go through each lossy codec
// (encode → decode, per sample, as on the wire) and the rest of the network runs on them. Exits before the split
// see exact values, so the change can be replayed for every threshold of the profile's grid from one pass.

import type { Tensor } from 'onnxruntime-common';
import { softmax, top1 } from '../../core/exit-policy.js';
import { codecLabel, QUANT_BITS, type CodecSpec, type QuantGranularity } from '../../core/codec-spec.js';
import {
  sendsPixels,
  type CodecMeasurement,
  type CodecProfile,
  type ModelManifest,
} from '../../core/manifest.js';
import type { SessionProvider, TensorFactory } from '../../core/progressive-executor.js';
import { decodeTensor, encodeTensor } from '../../core/tensor-codec.js';
import type { LabelledImages } from '../dataset/labelled-images.js';
import type { ExitTable } from './exit-table.js';
import { preprocessBatch } from './exit-table.js';
import { hostLabel } from './latency-profile.js';
import { thresholdProfile } from './threshold-profile.js';

export interface CodecProfileOptions {
  batch?: number;
  /** Samples (the first ones) whose activations are also encoded with compression to time and size the codec. */
  sizeSamples?: number;
  granularity?: QuantGranularity;
  /** Thresholds to report the change at (the profile's grid). */
  thresholds: number[];
  onProgress?: (done: number) => void;
}

/** A codec pass as the manifest's `profile.codec` section, labelled with this host and runtime. */
export function codecSection(
  r: Pick<CodecProfileResult, 'accuracySamples' | 'sizeSamples' | 'entries'>,
): CodecProfile {
  return {
    host: hostLabel(),
    runtime: `node ${process.version}, onnxruntime-node cpu`,
    measuredAt: new Date().toISOString(),
    accuracySamples: r.accuracySamples,
    sizeSamples: r.sizeSamples,
    entries: r.entries,
  };
}

export interface CodecProfileResult {
  entries: CodecMeasurement[];
  baseline: ExitTable;
  accuracySamples: number;
  sizeSamples: number;
}

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(q * s.length))]! : 0;
};

const now = () => performance.now();

/** Runs blocks [from, end) and the exits after them on a batch; writes each exit's top-1 into `table`. */
async function runTail(
  manifest: ModelManifest,
  sessions: SessionProvider,
  createTensor: TensorFactory,
  x: Float32Array,
  shape: number[],
  from: number,
  sampleOffset: number,
  table: ExitTable,
): Promise<void> {
  const K = manifest.classes.length;
  const E = manifest.exits.length;
  let t = createTensor(x, shape);
  for (let b = from; b < manifest.blocks.length; b++) {
    const block = manifest.blocks[b]!;
    t = (await (await sessions.block(b)).run({ [block.inputs[0]!.name]: t }))[
      block.outputs[0]!.name
    ] as Tensor;
    for (const exit of manifest.exits) {
      if (exit.afterBlock !== b) continue;
      const logits = (await (await sessions.exit(exit.index)).run({ [exit.input.name]: t }))[
        exit.output.name
      ]!.data as Float32Array;
      for (let i = 0; i < shape[0]!; i++) {
        const { label, confidence } = top1(softmax(logits, i * K, K));
        table.predicted[(sampleOffset + i) * E + exit.index] = label;
        table.confidence[(sampleOffset + i) * E + exit.index] = confidence;
      }
    }
  }
}

function emptyTable(n: number, E: number, labels: Uint8Array): ExitTable {
  return {
    samples: n,
    exits: E,
    predicted: new Uint8Array(n * E),
    confidence: new Float32Array(n * E),
    truth: labels.slice(0, n),
  };
}

export async function profileCodec(
  manifest: ModelManifest,
  sessions: SessionProvider,
  createTensor: TensorFactory,
  ds: LabelledImages,
  opts: CodecProfileOptions,
): Promise<CodecProfileResult> {
  const n = ds.count;
  const labels = ds.labels;
  const E = manifest.exits.length;
  const batch = opts.batch ?? 250;
  const sizeSamples = Math.min(n, opts.sizeSamples ?? 500);
  const granularity = opts.granularity ?? 'tensor';
  const lossy: CodecSpec[] = QUANT_BITS.map((bits) => ({ scheme: 'quant', bits, granularity }));
  const sized: CodecSpec[] = [{ scheme: 'lossless' }, ...lossy];
  const baseline = emptyTable(n, E, labels);
  // Per split and lossy codec: the exit table with that split's activations through the codec.
  const tables = new Map<string, ExitTable>();
  const stats = new Map<string, { bytes: number; enc: number[]; dec: number[] }>();
  const key = (split: number, spec: CodecSpec) => `${split}/${codecLabel(spec)}`;
  // Splits whose tensor travels as uint8 pixels (the input of a preprocessed model) have no codec choice to profile.
  const profiled = manifest.splits.filter((s) => !sendsPixels(manifest, s.split));
  for (const s of profiled) {
    for (const spec of lossy) tables.set(key(s.split, spec), emptyTable(n, E, labels));
    for (const spec of sized) stats.set(key(s.split, spec), { bytes: 0, enc: [], dec: [] });
  }
  const splitAt = new Map(profiled.map((s) => [s.split, s]));

  for (let from = 0; from < n; from += batch) {
    const count = Math.min(batch, n - from);
    let x = preprocessBatch(manifest, ds, from, count);
    let shape = [count, ...manifest.input.shape.slice(1)];
    for (let b = 0; b <= manifest.blocks.length; b++) {
      if (splitAt.has(b)) {
        const per = x.length / count;
        const one = [1, ...shape.slice(1)];
        for (let i = 0; i < count && from + i < sizeSamples; i++) {
          const v = x.slice(i * per, (i + 1) * per);
          for (const spec of sized) {
            const st = stats.get(key(b, spec))!;
            const t0 = now();
            const enc = encodeTensor(v, one, spec);
            const t1 = now();
            decodeTensor(enc);
            st.dec.push(now() - t1);
            st.enc.push(t1 - t0);
            st.bytes += enc.data.byteLength;
          }
        }
        for (const spec of lossy) {
          const y = new Float32Array(x.length);
          for (let i = 0; i < count; i++) {
            // The wire path without the byte compressor: the values are the same, at a fraction of the time.
            const enc = encodeTensor(x.subarray(i * per, (i + 1) * per), one, spec, { compress: false });
            y.set(decodeTensor(enc).values, i * per);
          }
          await runTail(manifest, sessions, createTensor, y, shape, b, from, tables.get(key(b, spec))!);
        }
      }
      if (b === manifest.blocks.length) break;
      // The exact walk: block b and its exits, into the baseline table.
      const block = manifest.blocks[b]!;
      const out = await (await sessions.block(b)).run({ [block.inputs[0]!.name]: createTensor(x, shape) });
      const t = out[block.outputs[0]!.name] as Tensor;
      x = t.data as Float32Array;
      shape = [...t.dims];
      for (const exit of manifest.exits) {
        if (exit.afterBlock !== b) continue;
        const logits = (await (await sessions.exit(exit.index)).run({ [exit.input.name]: t }))[
          exit.output.name
        ]!.data as Float32Array;
        const K = manifest.classes.length;
        for (let i = 0; i < count; i++) {
          const { label, confidence } = top1(softmax(logits, i * K, K));
          baseline.predicted[(from + i) * E + exit.index] = label;
          baseline.confidence[(from + i) * E + exit.index] = confidence;
        }
      }
    }
    opts.onProgress?.(from + count);
  }

  const base = thresholdProfile(baseline, opts.thresholds);
  const baseAll = thresholdProfile(baseline, [1])[0]!.accuracy;
  const entries: CodecMeasurement[] = [];
  for (const s of profiled) {
    for (const spec of sized) {
      const st = stats.get(key(s.split, spec))!;
      let change = 0;
      let byThreshold = opts.thresholds.map(() => 0);
      if (spec.scheme === 'quant') {
        const table = tables.get(key(s.split, spec))!;
        // Exits before the split ran on exact values on the device.
        for (const exit of manifest.exits) {
          if (exit.afterBlock >= s.split) continue;
          for (let i = 0; i < n; i++) {
            table.predicted[i * E + exit.index] = baseline.predicted[i * E + exit.index]!;
            table.confidence[i * E + exit.index] = baseline.confidence[i * E + exit.index]!;
          }
        }
        const withCodec = thresholdProfile(table, opts.thresholds);
        byThreshold = withCodec.map((t, k) => round((t.accuracy - base[k]!.accuracy) * 100));
        change = round((thresholdProfile(table, [1])[0]!.accuracy - baseAll) * 100);
      }
      entries.push({
        split: s.split,
        scheme: spec.scheme as 'lossless' | 'quant',
        bits: spec.scheme === 'quant' ? spec.bits : 32,
        ...(spec.scheme === 'quant' ? { granularity } : {}),
        meanBytes: round(st.bytes / Math.max(1, st.enc.length)),
        encodeMsP50: round(quantile(st.enc, 0.5)),
        encodeMsP95: round(quantile(st.enc, 0.95)),
        decodeMsP50: round(quantile(st.dec, 0.5)),
        decodeMsP95: round(quantile(st.dec, 0.95)),
        accuracyChangePp: change,
        accuracyChangePpByThreshold: byThreshold,
      });
    }
  }
  return { entries, baseline, accuracySamples: n, sizeSamples };
}

const round = (x: number) => Math.round(x * 10000) / 10000;
