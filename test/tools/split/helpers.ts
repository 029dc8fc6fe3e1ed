// Shared by the splitter tests: real-looking inputs (Fashion-MNIST test images, preprocessed like the manifest
import { expect } from 'vitest';
// says) and a reference check that chains a split model's block files and compares every exit with the source.

import { join } from 'node:path';
import { preprocessGray } from '../../../core/preprocess.js';
import { loadFashionMnist } from '../../../tools/dataset/fashion-mnist.js';
import * as ort from 'onnxruntime-node';
import type { ModelManifest } from '../../../core/manifest.js';

/** The first `n` Fashion-MNIST test images as a [n,1,32,32] batch: pad 2, scale 1/255, normalise. */
export function fmnistBatch(n: number, mean = 0.286, std = 0.353): ort.Tensor {
  const ds = loadFashionMnist('test', { limit: n });
  const pre = {
    sourceSize: [28, 28] as [number, number],
    padding: 2,
    scale: 1 / 255,
    mean: [mean],
    std: [std],
  };
  const data = new Float32Array(n * 32 * 32);
  for (let i = 0; i < n; i++)
    data.set(
      preprocessGray(ds.images.subarray(i * 784, (i + 1) * 784), {
        shape: [1, 1, 32, 32],
        preprocessing: pre,
      }),
      i * 1024,
    );
  return new ort.Tensor('float32', data, [n, 1, 32, 32]);
}

export function maxAbsDiff(a: ort.Tensor, b: ort.Tensor): number {
  const x = a.data as Float32Array;
  const y = b.data as Float32Array;
  if (x.length !== y.length) return Infinity;
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]! - y[i]!));
  return m;
}

/** Runs the source model and the chained parts on `input`; returns the max abs diff per exit. */
export async function chainDiffs(
  sourcePath: string,
  dir: string,
  m: ModelManifest,
  input: ort.Tensor,
): Promise<number[]> {
  const src = await ort.InferenceSession.create(sourcePath);
  const want = await src.run({ [m.input.name]: input });
  const open = (file: string) => ort.InferenceSession.create(join(dir, file));
  const blockOut: ort.Tensor[] = [];
  let x = input;
  for (const b of m.blocks) {
    const s = await open(b.file);
    expect(s.inputNames).toEqual([b.inputs[0]!.name]);
    expect(s.outputNames).toEqual([b.outputs[0]!.name]);
    x = (await s.run({ [b.inputs[0]!.name]: x }))[b.outputs[0]!.name]!;
    expect(x.dims.slice(1)).toEqual(b.outputs[0]!.shape.slice(1));
    blockOut.push(x);
  }
  const diffs: number[] = [];
  for (const e of m.exits) {
    const s = await open(e.file);
    const got = (await s.run({ [e.input.name]: blockOut[e.afterBlock]! }))[e.output.name]!;
    diffs.push(maxAbsDiff(got, want[e.output.name]!));
  }
  return diffs;
}
