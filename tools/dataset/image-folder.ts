// Reads a labelled image set laid out as one sub-folder per class (`<dir>/<class>/<file>.png|jpg|jpeg`), the layout
// torchvision's ImageFolder and most labelling tools produce. Classes are the sub-folder names in sorted order
// (label i = i-th name), files are sorted too, so a folder always yields the same dataset. PNG is decoded with
// pngjs and JPEG with jpeg-js: pure JavaScript, no native build or download, so it installs offline anywhere.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import type { RawImage } from '../../core/preprocess.js';
import type { LabelledImages } from './labelled-images.js';

export class DatasetError extends Error {
  override readonly name = 'DatasetError';
}

const IMAGE_EXT = new Set(['.png', '.jpg', '.jpeg']);

/** Decodes one PNG (to 8-bit RGBA, whatever its colour type and depth) or JPEG (to 8-bit RGB) file. */
export function decodeImageFile(path: string): RawImage {
  const bytes = readFileSync(path);
  const ext = extname(path).toLowerCase();
  try {
    if (ext === '.png') {
      // pngjs converts every colour type and bit depth to 8-bit RGBA.
      const png = PNG.sync.read(bytes);
      return { data: png.data, width: png.width, height: png.height, channels: 4 };
    }
    const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: false, maxMemoryUsageInMB: 512 });
    return { data: img.data, width: img.width, height: img.height, channels: 3 };
  } catch (e) {
    throw new DatasetError(`cannot decode ${path}: ${(e as Error).message}`);
  }
}

export function loadImageFolder(dir: string): LabelledImages {
  const classes = readdirSync(dir)
    .filter((name) => !name.startsWith('.') && statSync(join(dir, name)).isDirectory())
    .sort();
  if (classes.length < 2)
    throw new DatasetError(
      `${dir}: expected one sub-folder per class (at least two) or an IDX pair (train-images-idx3-ubyte.gz, ...)`,
    );
  if (classes.length > 256)
    throw new DatasetError(`${dir}: ${classes.length} classes; at most 256 are supported`);
  const files: string[] = [];
  const labels: number[] = [];
  classes.forEach((c, label) => {
    const names = readdirSync(join(dir, c))
      .filter((f) => IMAGE_EXT.has(extname(f).toLowerCase()))
      .sort();
    if (!names.length) throw new DatasetError(`${join(dir, c)}: no .png, .jpg or .jpeg files`);
    for (const f of names) {
      files.push(join(dir, c, f));
      labels.push(label);
    }
  });
  return {
    name: `image folder ${dir}`,
    count: files.length,
    labels: Uint8Array.from(labels),
    classes,
    image: (i) => decodeImageFile(files[i]!),
  };
}
