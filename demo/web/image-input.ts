// Any image the person drops or picks, turned into what the model was trained on: 28×28 8-bit grey, object bright
// on a dark background. Steps: fit the image (aspect kept) into 28×28 on a background of its own border colour,
// convert to luma (Rec. 601), invert when the border is light (photos usually show dark objects on light ground;
// Fashion-MNIST is the opposite) unless the person forces it, and stretch the contrast to 0..255.

export type InvertMode = 'auto' | 'invert' | 'keep';

export interface ConvertedImage {
  pixels: Uint8Array;
  inverted: boolean;
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

export async function convertImage(file: Blob, mode: InvertMode): Promise<ConvertedImage> {
  const bitmap = await createImageBitmap(file);
  try {
    const [r, g, b] = borderColour(bitmap);
    const c = new OffscreenCanvas(28, 28);
    const ctx = c.getContext('2d')!;
    ctx.fillStyle = `rgb(${r}, ${g}, ${b})`;
    ctx.fillRect(0, 0, 28, 28);
    const scale = Math.min(28 / bitmap.width, 28 / bitmap.height);
    const w = bitmap.width * scale;
    const hgt = bitmap.height * scale;
    ctx.imageSmoothingQuality = 'high';
    ctx.drawImage(bitmap, (28 - w) / 2, (28 - hgt) / 2, w, hgt);
    const d = ctx.getImageData(0, 0, 28, 28).data;
    const grey = new Float32Array(784);
    for (let i = 0; i < 784; i++) grey[i] = luma(d[4 * i]!, d[4 * i + 1]!, d[4 * i + 2]!);
    const inverted = mode === 'invert' || (mode === 'auto' && luma(r, g, b) > 127);
    let lo = 255;
    let hi = 0;
    for (let i = 0; i < 784; i++) {
      if (inverted) grey[i] = 255 - grey[i]!;
      lo = Math.min(lo, grey[i]!);
      hi = Math.max(hi, grey[i]!);
    }
    const span = Math.max(1, hi - lo);
    const pixels = new Uint8Array(784);
    for (let i = 0; i < 784; i++) pixels[i] = Math.round(((grey[i]! - lo) / span) * 255);
    return { pixels, inverted };
  } finally {
    bitmap.close();
  }
}
