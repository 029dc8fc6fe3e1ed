// Turns an image POST /v1/classify received into core's RawImage (8-bit, channels interleaved), or says in one line
// why it cannot: not a PNG or JPEG, larger than the edge decodes, undecodable, or pixels that do not match the
// stated dimensions. Decoders that run in workerd (no Node APIs, no wasm compile at run time): fast-png, pure
// JavaScript over fflate (which core's deflate codec already ships), for every PNG colour type, bit depth and
// interlacing; jpeg-js's pure-JavaScript decoder with typed arrays (`useTArray`, so it never touches Buffer) and its
// own resolution and memory caps. Dimensions are checked from the header before any pixel is decoded, so a small
// file that declares a huge image (a decompression bomb) costs nothing.

import { convertIndexedToRgb, decode as decodePng, type DecodedPng } from 'fast-png';
import { decode as decodeJpeg } from 'jpeg-js';
import type { RawImage } from '../core/preprocess.js';

/** Most pixels (width × height) the edge decodes: 2048×2048, 16 MiB as RGBA, far below a worker's memory. */
export const MAX_IMAGE_PIXELS = 2048 * 2048;
/** Largest image body (PNG, JPEG or JSON) POST /v1/classify reads. */
export const MAX_IMAGE_BODY_BYTES = 4 * 1024 * 1024;

/** A client's image that cannot be used; the message says why (rendered as a 400). */
export class ImageError extends Error {
  override readonly name = 'ImageError';
}

export type ImageFormat = 'png' | 'jpeg';

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** The format the bytes start with, by signature (never by the declared content type alone). */
export function sniffImage(bytes: Uint8Array): ImageFormat | undefined {
  if (PNG_SIGNATURE.every((b, i) => bytes[i] === b)) return 'png';
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  return undefined;
}

/** Refuses dimensions the edge will not decode. */
export function checkDimensions(width: number, height: number): void {
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0))
    throw new ImageError(`image dimensions ${width}x${height} are not positive integers`);
  if (width * height > MAX_IMAGE_PIXELS)
    throw new ImageError(
      `image is ${width}x${height} (${width * height} pixels); this edge decodes at most ${MAX_IMAGE_PIXELS} pixels`,
    );
}

/** Decodes a PNG or JPEG body; throws ImageError for anything else. */
export function decodeImage(bytes: Uint8Array): RawImage {
  const format = sniffImage(bytes);
  if (format === undefined) {
    const head = [...bytes.subarray(0, 4)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
    throw new ImageError(`body is not a PNG or JPEG image (it starts with bytes ${head || 'nothing'})`);
  }
  return format === 'png' ? pngImage(bytes) : jpegImage(bytes);
}

function pngImage(bytes: Uint8Array): RawImage {
  // IHDR is the first chunk: width and height are big-endian at bytes 16 and 20.
  if (bytes.length < 33) throw new ImageError(`PNG is truncated (${bytes.length} bytes, no complete header)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  checkDimensions(view.getUint32(16), view.getUint32(20));
  let png: DecodedPng;
  try {
    png = decodePng(bytes);
  } catch (e) {
    throw new ImageError(`PNG could not be decoded: ${(e as Error).message}`);
  }
  const { width, height } = png;
  if (png.palette) {
    const data = convertIndexedToRgb(png);
    return { data, width, height, channels: png.palette[0]!.length === 4 ? 4 : 3 };
  }
  const channels = png.channels as RawImage['channels'];
  return { data: eightBit(png, channels), width, height, channels };
}

/** PNG samples as 8-bit values: 16-bit ones keep their high byte, 1/2/4-bit grey ones are unpacked and scaled. */
function eightBit(png: DecodedPng, channels: number): Uint8Array {
  const { data, depth, width, height } = png;
  if (depth === 8) return data instanceof Uint8Array ? data : Uint8Array.from(data);
  if (depth === 16) return Uint8Array.from(data, (v) => v >> 8);
  // Sub-byte depths exist only for grey (and palettes, handled above): rows are packed and padded to a byte.
  const out = new Uint8Array(width * height * channels);
  const perByte = 8 / depth;
  const max = (1 << depth) - 1;
  const rowBytes = Math.ceil(width / perByte);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const byte = data[y * rowBytes + Math.floor(x / perByte)]!;
      const shift = 8 - depth * ((x % perByte) + 1);
      out[y * width + x] = Math.round((((byte >> shift) & max) * 255) / max);
    }
  }
  return out;
}

function jpegImage(bytes: Uint8Array): RawImage {
  let jpeg: { width: number; height: number; data: Uint8Array };
  try {
    jpeg = decodeJpeg(bytes, {
      useTArray: true,
      formatAsRGBA: false,
      maxResolutionInMP: MAX_IMAGE_PIXELS / 1e6,
      maxMemoryUsageInMB: 64,
    });
  } catch (e) {
    const message = (e as Error).message;
    if (/maxResolutionInMP|memory/i.test(message)) throw new ImageError(`JPEG is too large: ${message}`);
    throw new ImageError(`JPEG could not be decoded: ${message}`);
  }
  checkDimensions(jpeg.width, jpeg.height);
  return { data: jpeg.data, width: jpeg.width, height: jpeg.height, channels: 3 };
}

/** The JSON form's image, its pixel count checked against its dimensions. */
export function jsonImage(
  pixels: readonly number[],
  width: number,
  height: number,
  channels?: number,
): RawImage {
  checkDimensions(width, height);
  const k = channels ?? pixels.length / (width * height);
  if (![1, 2, 3, 4].includes(k))
    throw new ImageError(
      `${pixels.length} pixel values do not fit a ${width}x${height} image with 1, 2, 3 or 4 channels`,
    );
  if (pixels.length !== width * height * k)
    throw new ImageError(
      `a ${width}x${height} image with ${k} channels has ${width * height * k} values, got ${pixels.length}`,
    );
  return { data: pixels, width, height, channels: k as RawImage['channels'] };
}
