// How far the chained block and exit files drift from a single source ONNX model: plugged into buildExitTable's
// `onBatch`, it runs the source model on the same preprocessed batch and keeps the largest |Δlogit| over the exits it
// is told to compare (every exit for model:report, the final one against the user's model for model:exits).

import * as ort from 'onnxruntime-node';
import type { ModelManifest } from '../../core/manifest.js';

export interface SourceComparer {
  onBatch(from: number, count: number, input: Float32Array, logits: Float32Array[]): Promise<void>;
  readonly maxAbsDiff: number;
  release(): Promise<void>;
}

/** `pairs`: [source output name, exit index] to compare. */
export async function compareWithSource(
  path: string,
  manifest: ModelManifest,
  pairs: Array<[string, number]>,
): Promise<SourceComparer> {
  const session = await ort.InferenceSession.create(path, { executionProviders: ['cpu'] });
  let max = 0;
  return {
    async onBatch(_from, count, input, logits) {
      const out = await session.run({
        [manifest.input.name]: new ort.Tensor('float32', input, [count, ...manifest.input.shape.slice(1)]),
      });
      for (const [name, e] of pairs) {
        const ref = out[name]!.data as Float32Array;
        const got = logits[e]!;
        for (let i = 0; i < ref.length; i++) max = Math.max(max, Math.abs(ref[i]! - got[i]!));
      }
    },
    get maxAbsDiff() {
      return max;
    },
    release: () => session.release(),
  };
}

/** The output names of a model file (to pick what to compare). */
export async function outputNames(path: string): Promise<readonly string[]> {
  const s = await ort.InferenceSession.create(path, { executionProviders: ['cpu'] });
  const names = s.outputNames;
  await s.release();
  return names;
}
