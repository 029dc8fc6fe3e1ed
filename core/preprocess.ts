// Image preprocessing from the manifest's contract: raw 8-bit grey pixels -> padded, scaled, normalised float32
// in NCHW. Shared by the client, the profiler and the demo so every part feeds the model identically.

import type { Preprocessing } from './manifest.js';

export function preprocessGray(pixels: ArrayLike<number>, p: Preprocessing): Float32Array {
  const [h, w] = p.sourceSize;
  if (pixels.length !== h * w)
    throw new RangeError(`expected ${h * w} pixels (${h}x${w}), got ${pixels.length}`);
  const H = h + 2 * p.padding;
  const W = w + 2 * p.padding;
  const mean = p.mean[0]!;
  const std = p.std[0]!;
  const out = new Float32Array(H * W).fill((0 - mean) / std);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      out[(y + p.padding) * W + x + p.padding] = (pixels[y * w + x]! * p.scale - mean) / std;
    }
  }
  return out;
}
