// Image preprocessing from the manifest's contract, in two stages shared by the client, the backend, the tools and
// the demo so every part feeds the model identically:
//  1. `imageToPixels`: any 8-bit image (grey, grey+alpha, RGB or RGBA, any size) -> the model's channels (grey is
//     replicated to R, G, B; colour is reduced to grey with ITU-R 601 luma as Pillow does; `channelOrder` picks RGB
//     or BGR), resized bilinearly to `resize` (core/image-resize.ts) and zero-padded: uint8 pixels, CHW, exactly
//     the model input's size. These bytes are what a client sends for a server-only request (codec scheme `u8`).
//  2. `normalizePixels`: pixel × scale, then (x − mean[c]) / std[c] per channel -> float32 model input.

import { resizePlane } from './image-resize.js';
import type { Preprocessing } from './manifest.js';

/** An 8-bit image as decoders and canvases give it: rows top to bottom, channels interleaved. */
export interface RawImage {
  data: ArrayLike<number>;
  width: number;
  height: number;
  /** 1 grey, 2 grey + alpha, 3 RGB, 4 RGBA (alpha is ignored). */
  channels: 1 | 2 | 3 | 4;
}

/** The part of a manifest's `input` preprocessing needs: its shape [N, C, H, W] and recipe. */
export interface ModelInputSpec {
  shape: readonly number[];
  preprocessing?: Preprocessing | undefined;
}

export interface InputGeometry {
  channels: number;
  height: number;
  width: number;
}

/** Channels, height and width of an image model's input (shape [N, C, H, W]); throws for anything else. */
export function inputGeometry(input: ModelInputSpec): InputGeometry {
  const s = input.shape;
  if (s.length !== 4 || s.slice(1).some((d) => !(d > 0)))
    throw new RangeError(`not an image input: shape [${s.join(',')}] is not [N, C, H, W] with fixed C, H, W`);
  return { channels: s[1]!, height: s[2]!, width: s[3]! };
}

function recipe(input: ModelInputSpec): Preprocessing {
  if (!input.preprocessing) throw new TypeError('the model has no preprocessing recipe in its manifest');
  return input.preprocessing;
}

/** Pillow's "L" conversion: L = R·299/1000 + G·587/1000 + B·114/1000, in its 16-bit fixed point. */
const luma = (r: number, g: number, b: number) => (r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16;

/** Stage 1: an image -> uint8 CHW pixels of the model input's size. */
export function imageToPixels(image: RawImage, input: ModelInputSpec): Uint8Array {
  const pre = recipe(input);
  const { channels, height, width } = inputGeometry(input);
  const { data, width: w, height: h, channels: k } = image;
  if (![1, 2, 3, 4].includes(k)) throw new RangeError(`an image has 1 to 4 channels, got ${k}`);
  if (!(w > 0 && h > 0) || data.length !== w * h * k)
    throw new RangeError(`image data holds ${data.length} values, ${w}x${h}x${k} needs ${w * h * k}`);
  if (channels !== 1 && channels !== 3)
    throw new RangeError(`preprocessing makes 1 or 3 channels; the model takes ${channels}`);
  const [innerH, innerW] = pre.resize ?? pre.sourceSize;
  const pad = pre.padding;
  if (innerH + 2 * pad !== height || innerW + 2 * pad !== width)
    throw new RangeError(
      `preprocessing makes ${innerH + 2 * pad}x${innerW + 2 * pad}, the model takes ${height}x${width}`,
    );
  const order = pre.channelOrder === 'bgr' ? [2, 1, 0] : [0, 1, 2];
  // Source value of output channel c at (y, x).
  const sample = (c: number) => {
    if (k < 3) return (y: number, x: number) => data[(y * w + x) * k]!;
    if (channels === 1) {
      return (y: number, x: number) => {
        const i = (y * w + x) * k;
        return luma(data[i]!, data[i + 1]!, data[i + 2]!);
      };
    }
    const src = order[c]!;
    return (y: number, x: number) => data[(y * w + x) * k + src]!;
  };
  const out = new Uint8Array(channels * height * width); // zero = the padding
  const plane = new Uint8Array(innerH * innerW);
  for (let c = 0; c < channels; c++) {
    if (c > 0 && k < 3) {
      out.copyWithin(c * height * width, 0, height * width); // grey replicated: every channel the same
      continue;
    }
    resizePlane(sample(c), h, w, innerH, innerW, plane);
    for (let y = 0; y < innerH; y++)
      out.set(plane.subarray(y * innerW, (y + 1) * innerW), c * height * width + (y + pad) * width + pad);
  }
  return out;
}

/** Stage 2: uint8 CHW pixels (as stage 1 makes them, or as a `u8` payload carries them) -> float32 model input. */
export function normalizePixels(pixels: ArrayLike<number>, input: ModelInputSpec): Float32Array {
  const pre = recipe(input);
  const { channels, height, width } = inputGeometry(input);
  const plane = height * width;
  if (pixels.length !== channels * plane)
    throw new RangeError(
      `expected ${channels * plane} pixels (${channels}x${height}x${width}), got ${pixels.length}`,
    );
  const out = new Float32Array(pixels.length);
  for (let c = 0; c < channels; c++) {
    const mean = pre.mean[pre.mean.length === 1 ? 0 : c]!;
    const std = pre.std[pre.std.length === 1 ? 0 : c]!;
    for (let i = c * plane, end = i + plane; i < end; i++) out[i] = (pixels[i]! * pre.scale - mean) / std;
  }
  return out;
}

/** Both stages: an image -> float32 model input. */
export function preprocessImage(image: RawImage, input: ModelInputSpec): Float32Array {
  return normalizePixels(imageToPixels(image, input), input);
}

/** A raw grey image of the recipe's `sourceSize` (IDX datasets, `classify(Uint8Array)`) as a RawImage. */
export function greyImage(pixels: ArrayLike<number>, input: ModelInputSpec): RawImage {
  const [h, w] = recipe(input).sourceSize;
  if (pixels.length !== h * w)
    throw new RangeError(`expected ${h * w} pixels (${h}x${w}), got ${pixels.length}`);
  return { data: pixels, width: w, height: h, channels: 1 };
}

/** A raw grey image of `sourceSize` -> float32 model input. */
export function preprocessGray(pixels: ArrayLike<number>, input: ModelInputSpec): Float32Array {
  return preprocessImage(greyImage(pixels, input), input);
}
