// Ground truth for client tests: the original, unsplit model (train/model.onnx, outputs exit0..exit5 and final)
// run with onnxruntime-node, and what the progressive rule makes of its logits for a given threshold.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ortNode from 'onnxruntime-node';
import { shouldExit, softmax, top1 } from '../../../core/exit-policy.js';
import { parseManifest, type ModelManifest } from '../../../core/manifest.js';
import { preprocessGray, preprocessImage, type RawImage } from '../../../core/preprocess.js';
import type { FmnistSample } from './fmnist.js';

export const MODEL_ID = 'resnet56-fmnist';
export const MODEL_DIR = join(import.meta.dirname, '../../../models', MODEL_ID);

export function readManifest(): ModelManifest {
  return parseManifest(JSON.parse(readFileSync(join(MODEL_DIR, 'manifest.json'), 'utf8')));
}

/** Logits of every exit (exit0..exit5, final) per sample, from the original model on onnxruntime-node. */
export async function referenceLogits(
  manifest: ModelManifest,
  samples: FmnistSample[],
): Promise<Float32Array[][]> {
  const session = await ortNode.InferenceSession.create(join(MODEL_DIR, 'train/model.onnx'));
  const per = 32 * 32;
  const batch = new Float32Array(samples.length * per);
  samples.forEach((s, i) => batch.set(preprocessGray(s.pixels, manifest.input), i * per));
  const out = await session.run({ input: new ortNode.Tensor('float32', batch, [samples.length, 1, 32, 32]) });
  await session.release();
  const heads = manifest.exits.map((e) => out[e.output.name]!.data as Float32Array);
  const k = manifest.classes.length;
  return samples.map((_, i) => heads.map((h) => h.slice(i * k, (i + 1) * k)));
}

/**
 * Exit logits (all exits, then the final one) of a served model's single source network (`manifest.source`, as
 * `model:exits` records it) for images preprocessed by core/preprocess.ts as every client does.
 */
export async function sourceModelLogits(
  modelDir: string,
  manifest: ModelManifest,
  images: RawImage[],
): Promise<Float32Array[][]> {
  const session = await ortNode.InferenceSession.create(join(modelDir, manifest.source!.file));
  const out: Float32Array[][] = [];
  for (const img of images) {
    const x = preprocessImage(img, manifest.input);
    const res = await session.run({
      [manifest.input.name]: new ortNode.Tensor('float32', x, [1, ...manifest.input.shape.slice(1)]),
    });
    out.push(manifest.source!.outputs.map((name) => res[name]!.data as Float32Array));
  }
  await session.release();
  return out;
}

/** Where the progressive model answers for one sample's exit logits at `threshold` (exits from `fromExit` on). */
export function expectedAnswer(
  logits: Float32Array[],
  threshold: number,
  manifest: ModelManifest,
  fromExit = 0,
): { exit: number; label: number; confidence: number } {
  for (let e = fromExit; e < manifest.exits.length; e++) {
    const { label, confidence } = top1(softmax(logits[e]!));
    if (shouldExit(confidence, threshold, manifest.exits[e]!.final)) return { exit: e, label, confidence };
  }
  throw new Error('the final exit always answers');
}
