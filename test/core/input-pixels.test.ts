import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { codecOptionsBySplit } from '../../core/codec-options.js';
import { chooseCodec } from '../../core/codec-choice.js';
import { offloadInput, pixelPayloadProblem } from '../../core/input-pixels.js';
import { parseManifest, type ModelManifest } from '../../core/manifest.js';
import { normalizePixels } from '../../core/preprocess.js';
import {
  CodecError,
  decodeTensor,
  encodePixels,
  encodeTensor,
  payloadBounds,
} from '../../core/tensor-codec.js';
import { decodeOffload, encodeMessage, PROTOCOL_VERSION } from '../../core/wire.js';
import { readFileSync } from 'node:fs';

const resnet = parseManifest(JSON.parse(readFileSync('models/resnet56-fmnist/manifest.json', 'utf8')));
const noRecipe: ModelManifest = { ...resnet, input: { ...resnet.input, preprocessing: undefined } };

describe('u8 codec (input pixels)', () => {
  it('round-trips any uint8 image exactly, one byte per value', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 500 }), (px) => {
        const enc = encodePixels(px, [1, px.length]);
        expect(enc.data.byteLength).toBe(px.length);
        const back = decodeTensor(enc);
        expect(Array.from(back.values)).toEqual(Array.from(px));
      }),
    );
  });

  it('accepts only whole pixel values from floats, and exactly n payload bytes', () => {
    expect(() => encodeTensor(new Float32Array([1.5]), [1, 1], { scheme: 'u8' })).toThrow(
      /integer pixel values/,
    );
    expect(() => encodeTensor(new Float32Array([256]), [1, 1], { scheme: 'u8' })).toThrow(CodecError);
    expect(Array.from(encodeTensor(new Float32Array([0, 255]), [1, 2], { scheme: 'u8' }).data)).toEqual([
      0, 255,
    ]);
    expect(payloadBounds({ scheme: 'u8' }, 10)).toEqual({ min: 10, max: 10 });
    const enc = encodePixels(new Uint8Array(4), [1, 4]);
    expect(() => decodeTensor({ ...enc, data: new Uint8Array(5) })).toThrow(
      /u8 payload is 5 bytes; its header allows 4/,
    );
  });

  it('travels in an offload message', () => {
    const tensor = encodePixels(Uint8Array.from([1, 2, 3, 4]), [1, 1, 2, 2]);
    const back = decodeOffload(
      encodeMessage({
        v: PROTOCOL_VERSION,
        requestId: 'req_0123456789',
        modelId: 'm',
        split: 0,
        threshold: 1,
        tensor,
        context: {},
      }),
    );
    expect(back.tensor.codec).toEqual({ scheme: 'u8' });
    expect(Array.from(back.tensor.data)).toEqual([1, 2, 3, 4]);
  });
});

describe('where pixels may enter', () => {
  it('only at split 0 of a model with a preprocessing recipe', () => {
    expect(pixelPayloadProblem(resnet, 0, 'u8')).toBeUndefined();
    expect(pixelPayloadProblem(resnet, 3, 'u8')).toMatch(/only accepted at split 0, not split 3/);
    expect(pixelPayloadProblem(noRecipe, 0, 'u8')).toMatch(/no preprocessing recipe/);
    expect(pixelPayloadProblem(resnet, 3, 'quant')).toBeUndefined();
  });

  it('the server normalises them with the same recipe the client uses', () => {
    const px = Uint8Array.from({ length: 1024 }, (_, i) => i % 256);
    const got = offloadInput(resnet, 'u8', decodeTensor(encodePixels(px, [1, 1, 32, 32])).values);
    expect(Array.from(got)).toEqual(Array.from(normalizePixels(px, resnet.input)));
    const x = new Float32Array([0.5]);
    expect(offloadInput(resnet, 'fp32', x)).toBe(x);
  });

  it('is the only codec option, and the codec choice, for a server-only request', () => {
    const opts = codecOptionsBySplit(resnet).get(0)!;
    expect(opts.map((o) => o.spec)).toEqual([{ scheme: 'u8' }]);
    expect(opts[0]!.bytes).toBe(1024);
    expect(chooseCodec({ manifest: resnet, split: 0 }).codec).toEqual({ scheme: 'u8' });
    expect(chooseCodec({ manifest: noRecipe, split: 0 }).codec.scheme).not.toBe('u8');
    expect(codecOptionsBySplit(resnet).get(1)!.length).toBeGreaterThan(1);
  });
});
