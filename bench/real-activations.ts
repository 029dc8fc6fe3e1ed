// Real activations for the benchmarks that send offloads (bench:hop, bench:load, bench:validate): the first `count`
// Fashion-MNIST test images, preprocessed with the manifest's contract and run through the real block files up to
// `split` with onnxruntime-node, as a device would before offloading.

import { readFileSync } from 'node:fs';
import { parseManifest, type ModelManifest } from '../core/manifest.js';
import { preprocessGray } from '../core/preprocess.js';
import { runProgressive } from '../core/progressive-executor.js';
import { loadFashionMnist } from '../tools/dataset/fashion-mnist.js';
import { nodeSessions, nodeTensor } from '../tools/runtime/node-sessions.js';

export const MODEL_DIR = new URL('../models/resnet56-fmnist/', import.meta.url).pathname;

export function readModelManifest(): ModelManifest {
  return parseManifest(JSON.parse(readFileSync(`${MODEL_DIR}manifest.json`, 'utf8')));
}

export async function realActivations(
  manifest: ModelManifest,
  split: number,
  count = 1,
): Promise<{ values: Float32Array; shape: number[] }[]> {
  const ds = loadFashionMnist('test', { limit: count });
  const sessions = nodeSessions(MODEL_DIR, manifest, { threads: 1 });
  const out: { values: Float32Array; shape: number[] }[] = [];
  for (let i = 0; i < ds.count; i++) {
    const image = preprocessGray(ds.images.subarray(i * 784, (i + 1) * 784), manifest.input);
    const act = await runProgressive({
      manifest,
      sessions,
      createTensor: nodeTensor,
      input: image,
      inputShape: [1, 1, 32, 32],
      fromBlock: 0,
      toBlock: split,
      threshold: 1,
    });
    if (act.outcome.kind !== 'split') throw new Error(`image ${i} left at an exit before split ${split}`);
    out.push({ values: act.outcome.values, shape: act.outcome.shape });
  }
  return out;
}
