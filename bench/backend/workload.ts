// What bench:backend sends: real Fashion-MNIST test images, preprocessed by the manifest's contract and run up to
// each split in this process (the device side), encoded once as fp32 offload bodies. Each request gets a fresh
// request id by overwriting the id's bytes in a copy of its body, so the load generator spends almost nothing per
// request on encoding (its CPU is shared with the server on this machine).

import { readFileSync } from 'node:fs';
import { parseManifest, type ModelManifest } from '../../core/manifest.js';
import { preprocessGray } from '../../core/preprocess.js';
import { runProgressive } from '../../core/progressive-executor.js';
import { encodeTensor } from '../../core/tensor-codec.js';
import { encodeMessage, PROTOCOL_VERSION } from '../../core/wire.js';
import { loadFashionMnist } from '../../tools/dataset/fashion-mnist.js';
import { nodeSessions, nodeTensor } from '../../tools/runtime/node-sessions.js';

export const MODEL_DIR = new URL('../../models/resnet56-fmnist/', import.meta.url).pathname;

/** Activations of the images at one split (batch 1 each), and their offload bodies. */
export interface SplitWorkload {
  split: number;
  threshold: number;
  activations: { values: Float32Array; shape: number[] }[];
  /** Bodies with a placeholder request id at `idOffset` (ID_LENGTH ASCII bytes). */
  bodies: Uint8Array[];
  idOffset: number;
}

export const ID_LENGTH = 24;
const PLACEHOLDER = 'x'.repeat(ID_LENGTH);

export function loadManifest(): ModelManifest {
  return parseManifest(JSON.parse(readFileSync(`${MODEL_DIR}manifest.json`, 'utf8')));
}

export async function buildWorkload(
  manifest: ModelManifest,
  splits: readonly number[],
  threshold: number,
  images: number,
): Promise<{ source: string; bySplit: Map<number, SplitWorkload> }> {
  const ds = loadFashionMnist('test', { limit: images });
  const sessions = nodeSessions(MODEL_DIR, manifest, { threads: 1 });
  const inputs = Array.from({ length: ds.count }, (_, i) =>
    preprocessGray(ds.images.subarray(i * 784, (i + 1) * 784), manifest.input),
  );
  const bySplit = new Map<number, SplitWorkload>();
  for (const split of splits) {
    const activations = [];
    for (const input of inputs) {
      const r = await runProgressive({
        manifest,
        sessions,
        createTensor: nodeTensor,
        input,
        inputShape: [1, 1, 32, 32],
        fromBlock: 0,
        toBlock: split,
        threshold: 1,
      });
      if (r.outcome.kind !== 'split') throw new Error(`device side of split ${split} ended early`);
      activations.push({ values: r.outcome.values, shape: r.outcome.shape });
    }
    const bodies = activations.map((a) =>
      encodeMessage({
        v: PROTOCOL_VERSION,
        requestId: PLACEHOLDER,
        modelId: manifest.id,
        split,
        threshold,
        tensor: encodeTensor(a.values, a.shape, { scheme: 'fp32' }),
        context: {},
      }),
    );
    const idOffset = Buffer.from(bodies[0]!).indexOf(PLACEHOLDER);
    if (idOffset < 0) throw new Error('request id not found in the encoded body');
    bySplit.set(split, { split, threshold, activations, bodies, idOffset });
  }
  return { source: ds.source, bySplit };
}

let seq = 0;
/** A copy of body `i` (cycling) with a request id no other request of this process has. */
export function nextBody(w: SplitWorkload, i: number): Buffer {
  const body = Buffer.from(w.bodies[i % w.bodies.length]!);
  const id = `b${process.pid.toString(36)}-${(seq++).toString(36)}`.padEnd(ID_LENGTH, '_');
  body.write(id, w.idOffset, 'ascii');
  return body;
}
