import { describe, expect, it } from 'vitest';
import { parseManifest, type ModelManifest } from '../../core/manifest.js';
import {
  imageToPixels,
  normalizePixels,
  preprocessGray,
  preprocessImage,
  type ModelInputSpec,
} from '../../core/preprocess.js';
import { readFileSync } from 'node:fs';

const spec = (
  c: number,
  h: number,
  w: number,
  pre: Partial<ModelInputSpec['preprocessing']> = {},
): ModelInputSpec => ({
  shape: [-1, c, h, w],
  preprocessing: { sourceSize: [h, w], padding: 0, scale: 1, mean: [0], std: [1], ...pre },
});

describe('image resize (bilinear, half-pixel centres)', () => {
  it('matches PyTorch F.interpolate(bilinear, align_corners=False) when enlarging', () => {
    // torch.floor(F.interpolate(x, size=(5, 7), mode='bilinear', align_corners=False) + 0.5) for this 3x3 image.
    const img = { data: [10, 200, 30, 0, 255, 90, 40, 60, 120], width: 3, height: 3, channels: 1 as const };
    const out = imageToPixels(img, spec(1, 5, 7, { sourceSize: [3, 3], resize: [5, 7] }));
    expect(Array.from(out)).toEqual([
      10, 37, 119, 200, 127, 54, 30, 6, 37, 129, 222, 150, 78, 54, 0, 36, 146, 255, 184, 114, 90, 24, 40, 89,
      138, 125, 112, 108, 40, 43, 51, 60, 86, 111, 120,
    ]);
  });

  it('matches PyTorch with antialias=True when shrinking (averages instead of aliasing)', () => {
    const data = Array.from({ length: 36 }, (_, i) => i * 7);
    const out = imageToPixels(
      { data, width: 6, height: 6, channels: 1 },
      spec(1, 3, 2, { sourceSize: [6, 6], resize: [3, 2] }),
    );
    expect(Array.from(out)).toEqual([39, 56, 114, 131, 189, 206]);
  });

  it('leaves an image of the target size untouched', () => {
    const data = Array.from({ length: 28 * 28 }, (_, i) => (i * 37) % 256);
    const out = imageToPixels({ data, width: 28, height: 28, channels: 1 }, spec(1, 28, 28));
    expect(Array.from(out)).toEqual(data);
  });
});

describe('channels, padding and normalisation', () => {
  const rgb = { data: [255, 0, 0, 0, 128, 255], width: 2, height: 1, channels: 3 as const };

  it('keeps colour in RGB or BGR order and reduces it to grey with ITU-R 601 luma', () => {
    expect(Array.from(imageToPixels(rgb, spec(3, 1, 2)))).toEqual([255, 0, 0, 128, 0, 255]);
    expect(Array.from(imageToPixels(rgb, spec(3, 1, 2, { channelOrder: 'bgr' })))).toEqual([
      0, 255, 0, 128, 255, 0,
    ]);
    // Pillow's L: (255·19595 + 32768) >> 16 = 76; (128·38470 + 255·7471 + 32768) >> 16 = 104.
    expect(Array.from(imageToPixels(rgb, spec(1, 1, 2)))).toEqual([76, 104]);
  });

  it('replicates grey to every channel and ignores alpha', () => {
    const ga = { data: [10, 255, 20, 0], width: 2, height: 1, channels: 2 as const };
    expect(Array.from(imageToPixels(ga, spec(3, 1, 2)))).toEqual([10, 20, 10, 20, 10, 20]);
  });

  it('pads with zero pixels and normalises per channel', () => {
    const s = spec(3, 3, 4, { sourceSize: [1, 2], padding: 1, scale: 0.5, mean: [1, 2, 3], std: [1, 2, 4] });
    const px = imageToPixels(rgb, s);
    expect(Array.from(px.subarray(0, 12))).toEqual([0, 0, 0, 0, 0, 255, 0, 0, 0, 0, 0, 0]);
    const x = normalizePixels(px, s);
    expect(x[5]).toBeCloseTo((255 * 0.5 - 1) / 1);
    expect(x[12]).toBeCloseTo((0 - 2) / 2); // a padding pixel of channel 1
    expect(x[12 + 5]).toBeCloseTo((0 - 2) / 2);
    expect(x[24 + 6]).toBeCloseTo((255 * 0.5 - 3) / 4);
  });

  it('gives resnet56-fmnist the same input as before the colour pipeline (pad 2, scale, one mean/std)', () => {
    const m = parseManifest(
      JSON.parse(readFileSync('models/resnet56-fmnist/manifest.json', 'utf8')),
    ) as ModelManifest;
    const px = Array.from({ length: 784 }, (_, i) => (i * 13) % 256);
    const got = preprocessGray(px, m.input);
    const p = m.input.preprocessing!;
    const want = new Float32Array(32 * 32).fill((0 - p.mean[0]!) / p.std[0]!);
    for (let y = 0; y < 28; y++)
      for (let x = 0; x < 28; x++)
        want[(y + 2) * 32 + x + 2] = (px[y * 28 + x]! * p.scale - p.mean[0]!) / p.std[0]!;
    expect(Array.from(got)).toEqual(Array.from(want));
  });

  it('rejects images and recipes that do not fit the model', () => {
    expect(() => imageToPixels({ data: [1, 2, 3], width: 2, height: 2, channels: 1 }, spec(1, 2, 2))).toThrow(
      /holds 3 values/,
    );
    expect(() => preprocessImage(rgb, { shape: [-1, 3, 1, 2] })).toThrow(/no preprocessing recipe/);
    expect(() => preprocessImage(rgb, spec(3, 5, 5, { sourceSize: [2, 2] }))).toThrow(
      /makes 2x2, the model takes 5x5/,
    );
    expect(() => normalizePixels(new Uint8Array(5), spec(3, 1, 2))).toThrow(/expected 6 pixels/);
  });
});
