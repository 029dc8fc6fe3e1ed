// Bilinear resizing of one 8-bit image plane, the way PyTorch's `F.interpolate(mode='bilinear',
// align_corners=False, antialias=True)` and Pillow's BILINEAR filter do it: a separable triangle filter centred on
// half-pixel positions, whose support widens by the scale factor when shrinking (so a downscale averages instead of
// aliasing) and which reduces to plain half-pixel bilinear interpolation with edge clamping when enlarging (the
// training recipes' 28→96 upscale). Both passes run in float64 and the result is rounded once, half up.

interface Taps {
  /** First source index of each output position. */
  start: Int32Array;
  /** Normalised weights, `width` per output position (unused tail entries are 0). */
  weights: Float64Array;
  width: number;
}

function taps(inSize: number, outSize: number): Taps {
  const scale = inSize / outSize;
  const support = Math.max(1, scale); // triangle half-width in source pixels
  const width = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const weights = new Float64Array(outSize * width);
  for (let o = 0; o < outSize; o++) {
    const centre = (o + 0.5) * scale;
    const lo = Math.max(0, Math.floor(centre - support));
    const hi = Math.min(inSize, Math.ceil(centre + support));
    let total = 0;
    for (let j = lo; j < hi; j++) {
      const w = Math.max(0, 1 - Math.abs((j + 0.5 - centre) / support));
      weights[o * width + j - lo] = w;
      total += w;
    }
    for (let j = lo; j < hi; j++) weights[o * width + j - lo]! /= total;
    start[o] = lo;
  }
  return { start, weights, width };
}

/**
 * Resizes a plane of `inH`×`inW` values read through `at(y, x)` to `outH`×`outW` uint8 values written into `out`
 * from `offset` on, row-major.
 */
export function resizePlane(
  at: (y: number, x: number) => number,
  inH: number,
  inW: number,
  outH: number,
  outW: number,
  out: Uint8Array,
  offset = 0,
): void {
  const tx = taps(inW, outW);
  const ty = taps(inH, outH);
  // Horizontal pass: inH rows of outW float values.
  const mid = new Float64Array(inH * outW);
  for (let y = 0; y < inH; y++) {
    for (let o = 0; o < outW; o++) {
      let v = 0;
      const s = tx.start[o]!;
      for (let k = 0; k < tx.width; k++) {
        const w = tx.weights[o * tx.width + k]!;
        if (w !== 0) v += w * at(y, s + k);
      }
      mid[y * outW + o] = v;
    }
  }
  // Vertical pass, then one rounding to 8 bits.
  for (let o = 0; o < outH; o++) {
    const s = ty.start[o]!;
    for (let x = 0; x < outW; x++) {
      let v = 0;
      for (let k = 0; k < ty.width; k++) {
        const w = ty.weights[o * ty.width + k]!;
        if (w !== 0) v += w * mid[(s + k) * outW + x]!;
      }
      out[offset + o * outW + x] = Math.min(255, Math.max(0, Math.floor(v + 0.5)));
    }
  }
}
