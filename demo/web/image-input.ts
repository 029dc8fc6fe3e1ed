// Any image the person drops or picks, turned into what the model was trained on: object bright on a dark
// background, at the model's own size — 28×28 grey for a grey model, colour at its input size (e.g. 96×96 RGB) for a
// colour one. Steps: fit the image (aspect kept) into that size on a background of its own border colour, convert to
// luma (Rec. 601) for a grey model, invert when the border is light (photos usually show dark objects on light
// ground; Fashion-MNIST is the opposite) unless the person forces it, and stretch the contrast to 0..255. The result
// goes to SpinnClient.classify, which applies the manifest's preprocessing (core/preprocess.ts) to it.

import type { RawImage } from '../../core/preprocess.js';

export type InvertMode = 'auto' | 'invert' | 'keep';

export interface ConvertedImage {
  image: RawImage;
  inverted: boolean;
}

/** What to make: grey (1 channel) or colour (3) at `height`×`width`. */
export interface ImageTarget {
  channels: 1 | 3;
  height: number;
  width: number;
}

const luma = (r: number, g: number, b: number) => 0.299 * r + 0.587 * g + 0.114 * b;

/** Mean RGB of the outermost ring of pixels of an image drawn at 32×32. */
function borderColour(bitmap: ImageBitmap): [number, number, number] {
  const c = new OffscreenCanvas(32, 32);
  const ctx = c.getContext('2d')!;
  ctx.drawImage(bitmap, 0, 0, 32, 32);
  const d = ctx.getImageData(0, 0, 32, 32).data;
  const sum = [0, 0, 0];
  let n = 0;
  for (let y = 0; y < 32; y++)
    for (let x = 0; x < 32; x++) {
      if (x > 0 && x < 31 && y > 0 && y < 31) continue;
      const i = 4 * (y * 32 + x);
      sum[0]! += d[i]!;
      sum[1]! += d[i + 1]!;
      sum[2]! += d[i + 2]!;
      n++;
    }
  return [sum[0]! / n, sum[1]! / n, sum[2]! / n];
}

export async function convertImage(
  file: Blob,
  mode: InvertMode,
  target: ImageTarget,
): Promise<ConvertedImage> {
  const bitmap = await createImageBitmap(file);
  try {
    const [r, g, b] = borderColour(bitmap);
    const { width: W, height: H } = target;
    const c = new OffscreenCanvas(W, H);
    const ctx = c.getContext('2d')!;
    ctx.fillStyle = `rgb(${r}, ${g}, ${b})`;
    ctx.fillRect(0, 0, W, H);
    const scale = Math.min(W / bitmap.width, H / bitmap.height);
    const w = bitmap.width * scale;
    const hgt = bitmap.height * scale;
    ctx.imageSmoothingQuality = 'high';
    ctx.drawImage(bitmap, (W - w) / 2, (H - hgt) / 2, w, hgt);
    const d = ctx.getImageData(0, 0, W, H).data;
    const n = W * H;
    const k = target.channels;
    const values = new Float32Array(n * k);
    for (let i = 0; i < n; i++) {
      if (k === 1) values[i] = luma(d[4 * i]!, d[4 * i + 1]!, d[4 * i + 2]!);
      else for (let ch = 0; ch < 3; ch++) values[3 * i + ch] = d[4 * i + ch]!;
    }
    const inverted = mode === 'invert' || (mode === 'auto' && luma(r, g, b) > 127);
    let lo = 255;
    let hi = 0;
    for (let i = 0; i < values.length; i++) {
      if (inverted) values[i] = 255 - values[i]!;
      lo = Math.min(lo, values[i]!);
      hi = Math.max(hi, values[i]!);
    }
    // One stretch for every channel, so colours keep their hue.
    const span = Math.max(1, hi - lo);
    const data = new Uint8Array(values.length);
    for (let i = 0; i < values.length; i++) data[i] = Math.round(((values[i]! - lo) / span) * 255);
    return { image: { data, width: W, height: H, channels: k }, inverted };
  } finally {
    bitmap.close();
  }
}
