// The lossless sparsity stage: a bitmap with one bit per element, set where the element is non-zero. ReLU outputs
// are 23-76 % exact zeros on resnet56-fmnist; a bitmap measured smaller than run-lengths of zeros once deflated
// (bench:codec prints both), has a size fixed by the shape (so the decoder knows it before inflating) and needs no
// branches to build.

/** Bytes of the bitmap for n elements. */
export const bitmapBytes = (n: number): number => Math.ceil(n / 8);

/**
 * Writes the bitmap of `nonZero(i)` into `out` (zeroed, at least bitmapBytes(n) long) and returns how many bits
 * were set. Bit i lives in byte i >> 3 at position i & 7 (LSB first).
 */
export function buildBitmap(n: number, nonZero: (i: number) => boolean, out: Uint8Array): number {
  let count = 0;
  for (let byte = 0, i = 0; i < n; byte++) {
    let b = 0;
    const end = Math.min(n, i + 8);
    for (let bit = 0; i < end; i++, bit++) {
      if (nonZero(i)) {
        b |= 1 << bit;
        count++;
      }
    }
    out[byte] = b;
  }
  return count;
}

const POPCOUNT = new Uint8Array(256).map((_, v) => {
  let c = 0;
  for (let x = v; x; x >>= 1) c += x & 1;
  return c;
});

/** Set bits of a bitmap for n elements, or -1 when a padding bit past n is set (a malformed bitmap). */
export function bitmapCount(bitmap: Uint8Array, n: number): number {
  const bytes = bitmapBytes(n);
  let count = 0;
  for (let i = 0; i < bytes; i++) count += POPCOUNT[bitmap[i]!]!;
  const tail = n & 7;
  if (tail && bitmap[bytes - 1]! >> tail) return -1;
  return count;
}

/** Size of run-lengths of zeros/non-zeros as LEB128 varints, for the bench's bitmap-vs-RLE comparison. */
export function runLengthBytes(n: number, nonZero: (i: number) => boolean): number {
  let bytes = 0;
  let i = 0;
  let zero = true;
  while (i < n) {
    let j = i;
    while (j < n && !nonZero(j) === zero) j++;
    for (let r = j - i; ; r >>>= 7) {
      bytes++;
      if (r < 128) break;
    }
    i = j;
    zero = !zero;
  }
  return bytes;
}
