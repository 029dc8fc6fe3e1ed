// Turns what a caller hands `classify` into the model's input tensor: raw 8-bit grey pixels are preprocessed with
// the manifest's own recipe (core/preprocess.ts); a Float32Array is taken as already preprocessed. Anything else
// is a programmer error and throws with the sizes that were expected.

import type { ModelManifest } from '../core/manifest.js';
import { preprocessGray } from '../core/preprocess.js';

/** Raw pixels (row-major, one byte per pixel, the manifest's `sourceSize`) or a preprocessed float32 image. */
export type ClassifyInput = Uint8Array | Uint8ClampedArray | Float32Array;

export interface ModelInput {
  values: Float32Array;
  /** The manifest's input shape with batch 1. */
  shape: number[];
}

export function toModelInput(input: ClassifyInput, manifest: ModelManifest): ModelInput {
  const shape = manifest.input.shape.map((d, i) => (i === 0 || d < 0 ? 1 : d));
  const elements = shape.reduce((a, b) => a * b, 1);
  const pre = manifest.input.preprocessing;
  if (input instanceof Float32Array) {
    if (input.length !== elements) {
      throw new RangeError(
        `preprocessed input must hold ${elements} float32 values (shape [${shape.join(',')}]), got ${input.length}`,
      );
    }
    return { values: input, shape };
  }
  if (input instanceof Uint8Array || input instanceof Uint8ClampedArray) {
    if (!pre)
      throw new TypeError(
        `model ${manifest.id} has no preprocessing recipe; pass a preprocessed Float32Array`,
      );
    const [h, w] = pre.sourceSize;
    if (input.length !== h * w) {
      throw new RangeError(`raw input must hold ${h}x${w} = ${h * w} 8-bit pixels, got ${input.length}`);
    }
    const values = preprocessGray(input, pre);
    if (values.length !== elements) {
      throw new RangeError(`preprocessing gives ${values.length} values but the model takes ${elements}`);
    }
    return { values, shape };
  }
  throw new TypeError('classify input must be a Uint8Array of raw pixels or a preprocessed Float32Array');
}
