// Why this file exists: the one shape every offline tool (profiler, report, model:exits) reads images in, whatever
// they came from (an IDX pair, a folder of PNG/JPEG files): a count, labels, and each image on demand as a RawImage
// (core/preprocess.ts turns it into model input). Images are produced lazily so a 60k-image set is never held
// decoded in memory at model resolution.

import type { RawImage } from '../../core/preprocess.js';

export interface LabelledImages {
  /** What to call it in reports (e.g. `fashion-mnist (official test split)`). */
  name: string;
  count: number;
  labels: Uint8Array;
  /** Class names, indexed like labels, when the source names them (a folder's sub-folders). */
  classes?: string[];
  image(i: number): RawImage;
}

/** Grey images of one size stored one after another (IDX). */
export function packedGreyImages(
  name: string,
  pixels: Uint8Array,
  labels: Uint8Array,
  height: number,
  width: number,
): LabelledImages {
  const per = height * width;
  if (pixels.length !== labels.length * per)
    throw new Error(
      `${name}: ${pixels.length} pixels for ${labels.length} labels of ${height}x${width} images`,
    );
  return {
    name,
    count: labels.length,
    labels,
    image: (i) => ({ data: pixels.subarray(i * per, (i + 1) * per), width, height, channels: 1 }),
  };
}

/** The images at `indices`, in that order. */
export function subsetOf(ds: LabelledImages, indices: readonly number[], name = ds.name): LabelledImages {
  return {
    name,
    count: indices.length,
    labels: Uint8Array.from(indices, (i) => ds.labels[i]!),
    ...(ds.classes ? { classes: ds.classes } : {}),
    image: (i) => ds.image(indices[i]!),
  };
}

/** The first `n` images. */
export function firstOf(ds: LabelledImages, n: number): LabelledImages {
  return n >= ds.count
    ? ds
    : subsetOf(
        ds,
        Array.from({ length: n }, (_, i) => i),
      );
}
