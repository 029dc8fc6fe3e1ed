// Turns what a caller hands `classify` into the model's input: an image (raw grey pixels of the manifest's
// `sourceSize`, or a RawImage of any size with 1-4 channels) goes through the manifest's own recipe
// (core/preprocess.ts) and keeps its uint8 pixels at model resolution, which is what a server-only offload sends
// (codec scheme `u8`); a Float32Array is taken as already preprocessed (and has no pixels to send). Anything else
// is a programmer error and throws with the sizes that were expected.

import type { ModelManifest } from '../core/manifest.js';
import { greyImage, imageToPixels, normalizePixels, type RawImage } from '../core/preprocess.js';

/** Raw grey pixels (row-major, the manifest's `sourceSize`), an image of any size, or a preprocessed float32 image. */
export type ClassifyInput = Uint8Array | Uint8ClampedArray | Float32Array | RawImage;

export interface ModelInput {
  values: Float32Array;
  /** The manifest's input shape with batch 1. */
  shape: number[];
  /** The image at model resolution, uint8 CHW, when the input was an image. */
  pixels?: Uint8Array;
}

const isRawImage = (x: unknown): x is RawImage =>
  typeof x === 'object' && x !== null && 'data' in x && 'width' in x && 'height' in x && 'channels' in x;

export function toModelInput(input: ClassifyInput, manifest: ModelManifest): ModelInput {
  const shape = manifest.input.shape.map((d, i) => (i === 0 || d < 0 ? 1 : d));
  const elements = shape.reduce((a, b) => a * b, 1);
  if (input instanceof Float32Array) {
    if (input.length !== elements) {
      throw new RangeError(
        `preprocessed input must hold ${elements} float32 values (shape [${shape.join(',')}]), got ${input.length}`,
      );
    }
    return { values: input, shape };
  }
  const isGrey = input instanceof Uint8Array || input instanceof Uint8ClampedArray;
  if (!isGrey && !isRawImage(input))
    throw new TypeError(
      'classify input must be raw grey pixels (Uint8Array), an image {data, width, height, channels} or a preprocessed Float32Array',
    );
  if (!manifest.input.preprocessing)
    throw new TypeError(`model ${manifest.id} has no preprocessing recipe; pass a preprocessed Float32Array`);
  if (isGrey) {
    const [h, w] = manifest.input.preprocessing.sourceSize;
    if (input.length !== h * w)
      throw new RangeError(`raw input must hold ${h}x${w} = ${h * w} 8-bit pixels, got ${input.length}`);
  }
  const pixels = imageToPixels(isGrey ? greyImage(input, manifest.input) : input, manifest.input);
  return { values: normalizePixels(pixels, manifest.input), shape, pixels };
}
