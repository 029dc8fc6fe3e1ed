// The committed Fashion-MNIST sample (models/fashion-mnist-sample/, served as static assets): gzip IDX files
// gunzipped in the browser with DecompressionStream and parsed by core/idx.ts, exactly as Node reads them.

import { parseIdx } from '../../core/idx.js';
import type { RawImage } from '../../core/preprocess.js';

export interface SampleSet {
  /** Raw 28×28 8-bit images, row-major, one after another. */
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
}

const SAMPLE_URL = 'fashion-mnist-sample/';

async function gunzip(bytes: Uint8Array): Promise<Uint8Array> {
  // A host that sets `content-encoding: gzip` has already inflated the body; a gzip stream starts 1f 8b.
  if (bytes[0] !== 0x1f || bytes[1] !== 0x8b) return bytes;
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>])
    .stream()
    .pipeThrough(new DecompressionStream('gzip'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

async function fetchIdx(base: URL, file: string) {
  const url = new URL(file, base);
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url.pathname} answered HTTP ${res.status}`);
  return parseIdx(await gunzip(new Uint8Array(await res.arrayBuffer())));
}

/** Loads the first `limit` images and their labels of the committed test sample. */
export async function loadSamples(pageUrl: string, limit: number): Promise<SampleSet> {
  const base = new URL(SAMPLE_URL, pageUrl);
  const [images, labels] = await Promise.all([
    fetchIdx(base, 't10k-images-idx3-ubyte.gz'),
    fetchIdx(base, 't10k-labels-idx1-ubyte.gz'),
  ]);
  const [n, rows, cols] = images.dims;
  if (rows !== 28 || cols !== 28 || labels.dims[0] !== n) throw new Error('sample files are not 28×28 IDX');
  const count = Math.min(limit, n!);
  return { images: images.data.subarray(0, count * 784), labels: labels.data.subarray(0, count), count };
}

/** One sample's pixels. */
export function sampleImage(set: SampleSet, i: number): Uint8Array {
  return set.images.subarray(i * 784, (i + 1) * 784);
}

/** Paints an image (grey, grey + alpha, RGB or RGBA) onto a canvas at its own size (scaled by CSS). */
export function paintImage(canvas: HTMLCanvasElement, image: RawImage): void {
  canvas.width = image.width;
  canvas.height = image.height;
  const ctx = canvas.getContext('2d')!;
  const img = ctx.createImageData(image.width, image.height);
  const k = image.channels;
  for (let i = 0; i < image.width * image.height; i++) {
    for (let c = 0; c < 3; c++) img.data[4 * i + c] = image.data[i * k + (k >= 3 ? c : 0)]!;
    img.data[4 * i + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
}

/** Paints 28×28 grey pixels (a sample) onto a canvas. */
export function paintGrey(canvas: HTMLCanvasElement, pixels: Uint8Array): void {
  paintImage(canvas, { data: pixels, width: 28, height: 28, channels: 1 });
}
