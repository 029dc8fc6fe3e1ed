// One-off: writes the first N test images and labels of Fashion-MNIST as gzip IDX files under
// models/fashion-mnist-sample/, the small sample committed for the demo and for machines without the Debian package.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { encodeIdx } from '../../core/idx.js';
import { loadFashionMnist, SAMPLE_DIR } from './fashion-mnist.js';

const n = Number(process.argv[2] ?? 1000);
const ds = loadFashionMnist('test', { limit: n, requireFull: true });
mkdirSync(SAMPLE_DIR, { recursive: true });
writeFileSync(
  join(SAMPLE_DIR, 't10k-images-idx3-ubyte.gz'),
  gzipSync(encodeIdx([ds.count, 28, 28], ds.images), { level: 9 }),
);
writeFileSync(
  join(SAMPLE_DIR, 't10k-labels-idx1-ubyte.gz'),
  gzipSync(encodeIdx([ds.count], ds.labels), { level: 9 }),
);
console.log(`wrote the first ${ds.count} test images to ${SAMPLE_DIR}`);
