// Reads Fashion-MNIST test images and labels straight from Debian's gzip IDX files (no copies in the repo).

import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

export const FMNIST_DIR = '/usr/share/datasets/fashion-mnist';

export interface FmnistSample {
  index: number;
  pixels: Uint8Array;
  label: number;
}

/** The first `count` samples of the 10k test split (28×28 raw pixels). */
export function loadFmnistTest(count: number, offset = 0): FmnistSample[] {
  const images = gunzipSync(readFileSync(`${FMNIST_DIR}/t10k-images-idx3-ubyte.gz`));
  const labels = gunzipSync(readFileSync(`${FMNIST_DIR}/t10k-labels-idx1-ubyte.gz`));
  if (images.readUInt32BE(0) !== 2051 || labels.readUInt32BE(0) !== 2049) throw new Error('not IDX files');
  const n = images.readUInt32BE(4);
  const rows = images.readUInt32BE(8);
  const cols = images.readUInt32BE(12);
  const size = rows * cols;
  const out: FmnistSample[] = [];
  for (let i = offset; i < Math.min(n, offset + count); i++) {
    out.push({
      index: i,
      pixels: new Uint8Array(images.subarray(16 + i * size, 16 + (i + 1) * size)),
      label: labels[8 + i]!,
    });
  }
  return out;
}
