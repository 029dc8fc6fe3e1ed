// Where each test image would leave the network at every threshold, and whether that answer is right: the single
// exported model (all exits as outputs) on onnxruntime-node and core's exit rule. The oracle of experiment 6 needs
// it (it knows in advance where each sample exits).

import * as ort from 'onnxruntime-node';
import { readFileSync } from 'node:fs';
import { shouldExit, softmax, top1 } from '../../core/exit-policy.js';
import { parseManifest, type ModelManifest } from '../../core/manifest.js';
import { preprocessGray } from '../../core/preprocess.js';
import { loadFashionMnist } from '../../tools/dataset/fashion-mnist.js';

const dir = new URL('../../models/resnet56-fmnist/', import.meta.url).pathname;

export interface ImageExits {
  /** Top-1 confidence and correctness at every exit. */
  confidence: number[];
  correct: boolean[];
}

export function loadManifest(): ModelManifest {
  return parseManifest(JSON.parse(readFileSync(`${dir}manifest.json`, 'utf8')));
}

export async function referenceExits(images: readonly number[]): Promise<Map<number, ImageExits>> {
  const manifest = loadManifest();
  const ds = loadFashionMnist('test', { limit: Math.max(...images) + 1 });
  const session = await ort.InferenceSession.create(`${dir}${manifest.source!.file}`);
  const out = new Map<number, ImageExits>();
  for (const i of images) {
    const x = preprocessGray(ds.images.subarray(i * 784, (i + 1) * 784), manifest.input);
    const res = await session.run({ [manifest.input.name]: new ort.Tensor('float32', x, [1, 1, 32, 32]) });
    const confidence: number[] = [];
    const correct: boolean[] = [];
    for (let e = 0; e < manifest.exits.length; e++) {
      const t = top1(softmax(res[manifest.source!.outputs[e]!]!.data as Float32Array));
      confidence.push(t.confidence);
      correct.push(t.label === ds.labels[i]);
    }
    out.set(i, { confidence, correct });
  }
  await session.release();
  return out;
}

/** The exit an image leaves at under `threshold` (the last exit when none is confident enough). */
export function exitAt(x: ImageExits, threshold: number): number {
  const last = x.confidence.length - 1;
  for (let e = 0; e < last; e++) if (shouldExit(x.confidence[e]!, threshold, false)) return e;
  return last;
}
