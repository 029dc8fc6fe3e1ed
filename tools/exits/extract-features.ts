// Runs the frozen network once over a labelled image set with onnxruntime-node and keeps, per exit, the reduced
// features its head will be trained on (tools/exits/head-graph.ts). This is the only pass over the backbone that
// training needs: heads never change the network, so the features never change either.

import * as ort from 'onnxruntime-node';
import { preprocessImage, type ModelInputSpec } from '../../core/preprocess.js';
import type { LabelledImages } from '../dataset/labelled-images.js';
import type { FeatureSet } from './softmax-regression.js';

export interface ExtractOptions {
  batch?: number;
  threads?: number;
  onProgress?: (done: number) => void;
}

/** Preprocessed float32 input of images [from, from + count) of a dataset, batch first. */
export function inputBatch(
  ds: LabelledImages,
  input: ModelInputSpec,
  from: number,
  count: number,
): Float32Array {
  const per = input.shape.slice(1).reduce((a, b) => a * b, 1);
  const out = new Float32Array(count * per);
  for (let i = 0; i < count; i++) out.set(preprocessImage(ds.image(from + i), input), i * per);
  return out;
}

export async function extractFeatures(
  modelBytes: Uint8Array,
  outputs: string[],
  features: number[],
  ds: LabelledImages,
  input: ModelInputSpec & { name: string },
  o: ExtractOptions = {},
): Promise<FeatureSet[]> {
  const session = await ort.InferenceSession.create(modelBytes, {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    ...(o.threads ? { intraOpNumThreads: o.threads, interOpNumThreads: 1 } : {}),
  });
  const batch = o.batch ?? 64;
  const sets = features.map((d) => ({ x: new Float32Array(ds.count * d), y: ds.labels, n: ds.count }));
  try {
    for (let from = 0; from < ds.count; from += batch) {
      const count = Math.min(batch, ds.count - from);
      const x = inputBatch(ds, input, from, count);
      const res = await session.run(
        { [input.name]: new ort.Tensor('float32', x, [count, ...input.shape.slice(1)]) },
        outputs,
      );
      outputs.forEach((name, e) => sets[e]!.x.set(res[name]!.data as Float32Array, from * features[e]!));
      o.onProgress?.(from + count);
    }
  } finally {
    await session.release();
  }
  return sets;
}
