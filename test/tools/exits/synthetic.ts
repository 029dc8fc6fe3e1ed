// Test data for model:exits: fresh images of the four pattern families test/fixtures/tiny-cnn.onnx was trained on
// (tools/exits/fixtures/make_tiny_cnn.py: horizontal stripes, vertical stripes, checkerboard, disk), drawn from a
// seeded generator and written as a folder of class sub-folders (PNG and JPEG, larger than the model's 16x16 so the
// resize runs) or as a gzipped grey IDX pair named as Fashion-MNIST's files are.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { encodeIdx } from '../../../core/idx.js';
import { seededRandom } from '../../../tools/exits/softmax-regression.js';

export const CLASSES = ['hstripes', 'vstripes', 'checker', 'disk'];

/** One RGB image (interleaved) of class `label`, `size`×`size`. */
export function pattern(label: number, size: number, rand: () => number): Uint8Array {
  const s = size / 16; // the families are defined at 16x16
  const period = (4 + 3 * rand()) * s;
  const phase = 2 * Math.PI * rand();
  const [cy, cx] = [(rand() * 8 + 4) * s, (rand() * 8 + 4) * s];
  const r = (3 + 3 * rand()) * s;
  const fg = [0, 1, 2].map(() => 150 + 105 * rand());
  const bg = [0, 1, 2].map(() => 80 * rand());
  const out = new Uint8Array(size * size * 3);
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      const h = Math.sin((2 * Math.PI * y) / period + phase) > 0;
      const v = Math.sin((2 * Math.PI * x) / period + phase) > 0;
      const on = [h, v, h !== v, (y - cy) ** 2 + (x - cx) ** 2 < r * r][label]!;
      for (let c = 0; c < 3; c++)
        out[(y * size + x) * 3 + c] = Math.max(
          0,
          Math.min(255, Math.round((on ? fg[c]! : bg[c]!) + 20 * (rand() - 0.5))),
        );
    }
  return out;
}

/** `perClass` images of each class as <dir>/<class>/<i>.png|.jpg (alternating), `size`×`size`. */
export function writeImageFolder(dir: string, perClass: number, size = 24, seed = 7): void {
  const rand = seededRandom(seed);
  CLASSES.forEach((name, label) => {
    mkdirSync(join(dir, name), { recursive: true });
    for (let i = 0; i < perClass; i++) {
      const rgb = pattern(label, size, rand);
      const rgba = new Uint8Array(size * size * 4).fill(255);
      for (let p = 0; p < size * size; p++) rgba.set(rgb.subarray(p * 3, p * 3 + 3), p * 4);
      if (i % 2 === 0) {
        const png = new PNG({ width: size, height: size });
        png.data.set(rgba);
        writeFileSync(join(dir, name, `${i}.png`), PNG.sync.write(png));
      } else {
        const enc = jpeg.encode({ data: Buffer.from(rgba), width: size, height: size }, 95);
        writeFileSync(join(dir, name, `${i}.jpg`), enc.data);
      }
    }
  });
}

/** A grey IDX train pair (and t10k pair) of 16x16 images, classes interleaved. */
export function writeIdx(dir: string, train: number, test: number, seed = 11): void {
  const rand = seededRandom(seed);
  mkdirSync(dir, { recursive: true });
  const pair = (prefix: string, n: number) => {
    const images = new Uint8Array(n * 256);
    const labels = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      labels[i] = i % 4;
      const rgb = pattern(i % 4, 16, rand);
      for (let p = 0; p < 256; p++)
        images[i * 256 + p] = Math.round((rgb[p * 3]! + rgb[p * 3 + 1]! + rgb[p * 3 + 2]!) / 3);
    }
    writeFileSync(join(dir, `${prefix}-images-idx3-ubyte.gz`), gzipSync(encodeIdx([n, 16, 16], images)));
    writeFileSync(join(dir, `${prefix}-labels-idx1-ubyte.gz`), gzipSync(encodeIdx([n], labels)));
  };
  pair('train', train);
  if (test) pair('t10k', test);
}

export const TINY_META = {
  id: 'tiny-cnn',
  classes: CLASSES,
  preprocessing: {
    sourceSize: [16, 16] as [number, number],
    resize: [16, 16] as [number, number],
    padding: 0,
    scale: 1 / 255,
    mean: [0.5],
    std: [0.25],
  },
};
