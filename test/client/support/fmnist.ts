// Fashion-MNIST test images as per-sample records for the client and integration tests, read through the tools'
// loader (Debian's full split when installed, else the committed 1000-image sample).

import { loadFashionMnist } from '../../../tools/dataset/fashion-mnist.js';

export interface FmnistSample {
  index: number;
  pixels: Uint8Array;
  label: number;
}

/** `count` samples of the test split starting at `offset` (28×28 raw pixels). */
export function loadFmnistTest(count: number, offset = 0): FmnistSample[] {
  const ds = loadFashionMnist('test', { limit: offset + count });
  const out: FmnistSample[] = [];
  for (let i = offset; i < ds.count; i++) {
    out.push({ index: i, pixels: ds.images.slice(i * 784, (i + 1) * 784), label: ds.labels[i]! });
  }
  return out;
}
