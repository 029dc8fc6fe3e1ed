// Loads Fashion-MNIST for the tools, tests and benchmarks: the full official split from Debian's
// `dataset-fashion-mnist` when installed, else the 1000-image test sample committed under models/ so a fresh
// machine still runs. Callers see which one they got (`source`) and must say so in what they report.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { parseIdx } from '../../core/idx.js';
import { packedGreyImages, type LabelledImages } from './labelled-images.js';

export const DEBIAN_DIR = '/usr/share/datasets/fashion-mnist';
export const SAMPLE_DIR = new URL('../../models/fashion-mnist-sample/', import.meta.url).pathname;

export interface FashionMnist {
  /** Raw 28x28 8-bit images, row-major, one after another. */
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
  source: 'debian' | 'sample';
  dir: string;
}

function readGzIdx(path: string) {
  return parseIdx(new Uint8Array(gunzipSync(readFileSync(path))));
}

/**
 * @param split `test` (10k) or `train` (60k; Debian package only).
 * @param opts.limit keep only the first N images.
 * @param opts.requireFull throw instead of falling back to the committed sample.
 */
export function loadFashionMnist(
  split: 'test' | 'train' = 'test',
  opts: { limit?: number; requireFull?: boolean } = {},
): FashionMnist {
  const prefix = split === 'test' ? 't10k' : 'train';
  const dirs: Array<[string, 'debian' | 'sample']> = [];
  if (process.env.FASHION_MNIST_DIR) dirs.push([process.env.FASHION_MNIST_DIR, 'debian']);
  dirs.push([DEBIAN_DIR, 'debian']);
  if (!opts.requireFull && split === 'test') dirs.push([SAMPLE_DIR, 'sample']);
  for (const [dir, source] of dirs) {
    const img = join(dir, `${prefix}-images-idx3-ubyte.gz`);
    const lab = join(dir, `${prefix}-labels-idx1-ubyte.gz`);
    if (!existsSync(img) || !existsSync(lab)) continue;
    const images = readGzIdx(img);
    const labels = readGzIdx(lab);
    if (images.dims[1] !== 28 || images.dims[2] !== 28 || images.dims[0] !== labels.dims[0]) {
      throw new Error(`${dir}: unexpected Fashion-MNIST dimensions ${images.dims.join('x')}`);
    }
    const count = Math.min(images.dims[0]!, opts.limit ?? Infinity);
    return {
      images: images.data.subarray(0, count * 784),
      labels: labels.data.subarray(0, count),
      count,
      source,
      dir,
    };
  }
  throw new Error(
    `Fashion-MNIST ${split} split not found: install it with \`apt-get install -y dataset-fashion-mnist\`` +
      (opts.requireFull ? '' : ` (the committed sample has only the test split)`),
  );
}

/** The loaded split as the tools' LabelledImages. */
export function fashionMnistImages(ds: FashionMnist): LabelledImages {
  const what = ds.source === 'debian' ? 'official split' : 'committed sample';
  return packedGreyImages(`fashion-mnist (${what})`, ds.images, ds.labels, 28, 28);
}
