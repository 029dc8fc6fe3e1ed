// Batched "run everything" pass: every block in order and every exit head, returning each exit's logits for a
// whole batch. The profiler and the model report use it to measure all exits at once (the early-exit decision is
// then replayed per threshold with core/exit-policy.ts, so a 10k-image profile costs one pass, not one per
// threshold). Runtime injected, as in the progressive executor.

import type { Tensor } from 'onnxruntime-common';
import type { ModelManifest } from './manifest.js';
import type { SessionProvider, TensorFactory } from './progressive-executor.js';

/**
 * @param input preprocessed batch, NCHW, `batch` samples.
 * @returns one Float32Array per exit (batch × classes, row-major).
 */
export async function allExitLogits(
  manifest: ModelManifest,
  sessions: SessionProvider,
  createTensor: TensorFactory,
  input: Float32Array,
  batch: number,
): Promise<Float32Array[]> {
  const inShape = [batch, ...manifest.input.shape.slice(1)];
  let tensor = createTensor(input, inShape);
  const logits: Float32Array[] = [];
  for (const block of manifest.blocks) {
    const out = await (await sessions.block(block.index)).run({ [block.inputs[0]!.name]: tensor });
    tensor = out[block.outputs[0]!.name] as Tensor;
    for (const exit of manifest.exits) {
      if (exit.afterBlock !== block.index) continue;
      const res = await (await sessions.exit(exit.index)).run({ [exit.input.name]: tensor });
      logits[exit.index] = new Float32Array((res[exit.output.name] as Tensor).data as Float32Array);
    }
  }
  return logits;
}
