// `--data <dir>` of the model tools: a folder holding an IDX pair named as Fashion-MNIST's files are
// (`train-images-idx3-ubyte.gz` + `train-labels-idx1-ubyte.gz`, optionally the `t10k-` pair for the test split;
// plain or gzipped), or a folder of class sub-folders of PNG/JPEG images (tools/dataset/image-folder.ts).

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { parseIdx } from '../../core/idx.js';
import { DatasetError, loadImageFolder } from './image-folder.js';
import type { LabelledImages } from './labelled-images.js';

export interface LoadedDataset {
  kind: 'idx' | 'folder';
  /** Everything available for training (and, split off by the caller, validation). */
  train: LabelledImages;
  /** A separate test split, when the source has one (the IDX `t10k-` pair). */
  test?: LabelledImages;
}

function findIdx(dir: string, stem: string): string | undefined {
  for (const f of [`${stem}.gz`, stem]) if (existsSync(join(dir, f))) return join(dir, f);
  return undefined;
}

function readIdx(path: string) {
  const raw = new Uint8Array(readFileSync(path));
  try {
    return parseIdx(path.endsWith('.gz') ? new Uint8Array(gunzipSync(raw)) : raw);
  } catch (e) {
    throw new DatasetError(`${path}: ${(e as Error).message}`);
  }
}

/** One IDX pair as LabelledImages: images [N, h, w] (grey) or [N, h, w, c] with c = 1 or 3. */
export function idxPair(imagesPath: string, labelsPath: string, name: string): LabelledImages {
  const images = readIdx(imagesPath);
  const labels = readIdx(labelsPath);
  const [n, h, w, c = 1] = images.dims as [number, number, number, number?];
  if (images.dims.length < 3 || images.dims.length > 4 || (c !== 1 && c !== 3))
    throw new DatasetError(
      `${imagesPath}: images must be [N, h, w] or [N, h, w, 1|3], got [${images.dims.join(', ')}]`,
    );
  if (labels.dims.length !== 1 || labels.dims[0] !== n)
    throw new DatasetError(`${labelsPath}: ${labels.dims.join('x')} labels for ${n} images`);
  const per = h * w * c;
  return {
    name,
    count: n,
    labels: labels.data,
    image: (i) => ({
      data: images.data.subarray(i * per, (i + 1) * per),
      width: w,
      height: h,
      channels: c as 1 | 3,
    }),
  };
}

export function loadDataset(dir: string): LoadedDataset {
  if (!existsSync(dir)) throw new DatasetError(`dataset folder not found: ${dir}`);
  const trainImages = findIdx(dir, 'train-images-idx3-ubyte');
  const trainLabels = findIdx(dir, 'train-labels-idx1-ubyte');
  if (trainImages || trainLabels) {
    if (!trainImages || !trainLabels)
      throw new DatasetError(
        `${dir}: an IDX pair needs both train-images-idx3-ubyte(.gz) and train-labels-idx1-ubyte(.gz)`,
      );
    const train = idxPair(trainImages, trainLabels, `${dir} (IDX train split)`);
    const testImages = findIdx(dir, 't10k-images-idx3-ubyte');
    const testLabels = findIdx(dir, 't10k-labels-idx1-ubyte');
    const test =
      testImages && testLabels ? idxPair(testImages, testLabels, `${dir} (IDX test split)`) : undefined;
    return { kind: 'idx', train, ...(test ? { test } : {}) };
  }
  return { kind: 'folder', train: loadImageFolder(dir) };
}
