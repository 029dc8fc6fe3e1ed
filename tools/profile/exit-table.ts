// Runs a dataset through every exit of a split model once (batched) and keeps, per sample and exit, the top-1
// label and its softmax confidence. Everything the offline profile states about accuracy and exit rates is a
// replay of this table through core's exit rule.

import { softmax, top1 } from '../../core/exit-policy.js';
import { allExitLogits } from '../../core/exit-logits.js';
import type { ModelManifest } from '../../core/manifest.js';
import { preprocessImage } from '../../core/preprocess.js';
import type { SessionProvider, TensorFactory } from '../../core/progressive-executor.js';
import type { LabelledImages } from '../dataset/labelled-images.js';

export interface ExitTable {
  samples: number;
  exits: number;
  /** labels[s * exits + e]: exit e's top-1 class for sample s. */
  predicted: Uint8Array;
  /** confidence[s * exits + e]: its softmax probability. */
  confidence: Float32Array;
  truth: Uint8Array;
}

/** Images [from, from + count) of a dataset preprocessed as the manifest says, batch first. */
export function preprocessBatch(
  manifest: ModelManifest,
  ds: LabelledImages,
  from: number,
  count: number,
): Float32Array {
  if (!manifest.input.preprocessing)
    throw new Error(`model ${manifest.id} has no input preprocessing in its manifest`);
  const per = manifest.input.shape.slice(1).reduce((a, b) => a * b, 1);
  const out = new Float32Array(count * per);
  for (let i = 0; i < count; i++) out.set(preprocessImage(ds.image(from + i), manifest.input), i * per);
  return out;
}

export async function buildExitTable(
  manifest: ModelManifest,
  sessions: SessionProvider,
  createTensor: TensorFactory,
  ds: LabelledImages,
  opts: {
    batch?: number;
    onProgress?: (done: number) => void;
    /** Sees each batch's raw logits (per exit) and its preprocessed input, e.g. to compare with another model. */
    onBatch?: (
      from: number,
      count: number,
      input: Float32Array,
      logits: Float32Array[],
    ) => Promise<void> | void;
  } = {},
): Promise<ExitTable> {
  const n = ds.count;
  const E = manifest.exits.length;
  const K = manifest.classes.length;
  const batch = opts.batch ?? 250;
  const predicted = new Uint8Array(n * E);
  const confidence = new Float32Array(n * E);
  for (let from = 0; from < n; from += batch) {
    const count = Math.min(batch, n - from);
    const input = preprocessBatch(manifest, ds, from, count);
    const logits = await allExitLogits(manifest, sessions, createTensor, input, count);
    await opts.onBatch?.(from, count, input, logits);
    for (let e = 0; e < E; e++) {
      for (let i = 0; i < count; i++) {
        const { label, confidence: c } = top1(softmax(logits[e]!, i * K, K));
        predicted[(from + i) * E + e] = label;
        confidence[(from + i) * E + e] = c;
      }
    }
    opts.onProgress?.(from + count);
  }
  return { samples: n, exits: E, predicted, confidence, truth: ds.labels.slice(0, n) };
}
