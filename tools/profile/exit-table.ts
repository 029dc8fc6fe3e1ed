// Runs a dataset through every exit of a split model once (batched) and keeps, per sample and exit, the top-1
// label and its softmax confidence. Everything the offline profile states about accuracy and exit rates is a
// replay of this table through core's exit rule.

import { softmax, top1 } from '../../core/exit-policy.js';
import { allExitLogits } from '../../core/exit-logits.js';
import type { ModelManifest } from '../../core/manifest.js';
import { preprocessGray } from '../../core/preprocess.js';
import type { SessionProvider, TensorFactory } from '../../core/progressive-executor.js';

export interface ExitTable {
  samples: number;
  exits: number;
  /** labels[s * exits + e]: exit e's top-1 class for sample s. */
  predicted: Uint8Array;
  /** confidence[s * exits + e]: its softmax probability. */
  confidence: Float32Array;
  truth: Uint8Array;
}

export function preprocessBatch(
  manifest: ModelManifest,
  images: Uint8Array,
  from: number,
  count: number,
): Float32Array {
  const pre = manifest.input.preprocessing;
  if (!pre) throw new Error(`model ${manifest.id} has no input preprocessing in its manifest`);
  const [h, w] = pre.sourceSize;
  const per = (h + 2 * pre.padding) * (w + 2 * pre.padding);
  const out = new Float32Array(count * per);
  for (let i = 0; i < count; i++) {
    out.set(preprocessGray(images.subarray((from + i) * h * w, (from + i + 1) * h * w), pre), i * per);
  }
  return out;
}

export async function buildExitTable(
  manifest: ModelManifest,
  sessions: SessionProvider,
  createTensor: TensorFactory,
  images: Uint8Array,
  labels: Uint8Array,
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
  const n = labels.length;
  const E = manifest.exits.length;
  const K = manifest.classes.length;
  const batch = opts.batch ?? 250;
  const predicted = new Uint8Array(n * E);
  const confidence = new Float32Array(n * E);
  for (let from = 0; from < n; from += batch) {
    const count = Math.min(batch, n - from);
    const input = preprocessBatch(manifest, images, from, count);
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
  return { samples: n, exits: E, predicted, confidence, truth: labels.slice(0, n) };
}
