// POST /v1/classify in real workerd (the deployed bundle, the real models' manifests) with a fake backend that records
// what the edge sent: PNG (grey, colour, palette, 16-bit), JPEG and JSON images become a split-0 `u8` offload whose
// pixels are exactly core's preprocessing of the decoded image, the answer is the backend's label with its class
// name, and every bad image is a 400 that says why. The label against the real model: test/integration/classify.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encode as encodePng } from 'fast-png';
import { encode as encodeJpeg } from 'jpeg-js';
import { parseManifest, type ModelManifest } from '../../core/manifest.js';
import { greyImage, imageToPixels, type RawImage } from '../../core/preprocess.js';
import { decodeImage } from '../../worker/image-input.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadFmnistTest } from '../client/support/fmnist.js';
import { startFakeBackend, type FakeBackend } from '../support/fake-backend.js';
import { REPO_ROOT, startWorker, type RunningWorker } from '../support/start-worker.js';

let backend: FakeBackend;
let worker: RunningWorker;
const manifestOf = (id: string): ModelManifest =>
  parseManifest(JSON.parse(readFileSync(join(REPO_ROOT, 'models', id, 'manifest.json'), 'utf8')));
const resnet = manifestOf('resnet56-fmnist');
const mobilenet = manifestOf('mobilenetv2-fmnist96');
const [shirt, boot] = loadFmnistTest(2);

beforeAll(async () => {
  backend = await startFakeBackend();
  worker = await startWorker({ backendUrl: backend.url });
});

afterAll(async () => {
  await worker?.stop();
  await backend?.close();
});

const classify = (body: BodyInit, type: string, query = '', headers: Record<string, string> = worker.auth) =>
  fetch(`${worker.url}/v1/classify${query}`, {
    method: 'POST',
    headers: { 'content-type': type, ...headers },
    body,
  });

const png = (image: RawImage, depth: 8 | 16 = 8) =>
  encodePng({
    width: image.width,
    height: image.height,
    channels: image.channels,
    depth,
    data: depth === 16 ? Uint16Array.from(image.data, (v) => v * 257) : Uint8Array.from(image.data),
  }) as Uint8Array<ArrayBuffer>;

/** Posts `body`, expects a 200 answer, and checks the offload the backend got against `pixels`. */
async function expectClassified(
  body: Uint8Array | string,
  type: string,
  manifest: ModelManifest,
  pixels: Uint8Array,
) {
  const next = backend.nextInfer();
  const res = await classify(body as BodyInit, type, `?model=${manifest.id}`);
  const answer = (await res.json()) as Record<string, unknown>;
  expect(res.status, JSON.stringify(answer)).toBe(200);
  const sent = await next;
  expect(sent).toMatchObject({ modelId: manifest.id, split: 0, tensor: { codec: { scheme: 'u8' } } });
  expect(sent.tensor.shape).toEqual([1, ...manifest.input.shape.slice(1)]);
  expect(sent.tensor.data).toEqual(pixels);
  expect(sent.threshold).toBe((answer.plan as { threshold: number }).threshold);
  // The fake backend answers label 2 at exit 1.
  expect(answer).toMatchObject({
    requestId: sent.requestId,
    label: 2,
    className: manifest.classes[2],
    exit: 1,
  });
  return answer;
}

describe('POST /v1/classify in workerd', () => {
  it('a grey PNG is decoded losslessly and preprocessed with the model recipe', async () => {
    const image = greyImage(shirt!.pixels, resnet.input);
    await expectClassified(png(image), 'image/png', resnet, imageToPixels(image, resnet.input));
    // 16-bit and JSON forms of the same image give the same pixels.
    await expectClassified(png(image, 16), 'image/png', resnet, imageToPixels(image, resnet.input));
    const json = JSON.stringify({ pixels: Array.from(image.data), width: 28, height: 28 });
    await expectClassified(json, 'application/json', resnet, imageToPixels(image, resnet.input));
  });

  it('a JPEG and a colour PNG, for the colour model too (resized to 96x96)', async () => {
    const rgba = new Uint8Array(28 * 28 * 4).map((_, i) =>
      i % 4 === 3 ? 255 : boot!.pixels[i >> 2]! ^ ((i % 4) * 40),
    );
    const jpeg = encodeJpeg({ data: rgba, width: 28, height: 28 }, 90).data;
    for (const m of [resnet, mobilenet]) {
      const fromJpeg = imageToPixels(decodeImage(jpeg), m.input);
      await expectClassified(new Uint8Array(jpeg), 'image/jpeg', m, fromJpeg);
      const colour: RawImage = { data: rgba, width: 28, height: 28, channels: 4 };
      await expectClassified(png(colour), 'application/octet-stream', m, imageToPixels(colour, m.input));
    }
  });

  it('palette and 1-bit PNGs', async () => {
    const palette: [number, number, number][] = [
      [0, 0, 0],
      [250, 10, 10],
      [10, 250, 10],
      [10, 10, 250],
    ];
    const index = new Uint8Array(28 * 28).map((_, i) => shirt!.pixels[i]! >> 6);
    const indexed = encodePng({ width: 28, height: 28, channels: 1, depth: 8, data: index, palette });
    const rgb: RawImage = {
      data: [...index].flatMap((k) => palette[k]!),
      width: 28,
      height: 28,
      channels: 3,
    };
    await expectClassified(
      indexed as Uint8Array<ArrayBuffer>,
      'image/png',
      resnet,
      imageToPixels(rgb, resnet.input),
    );
    // 1 bit per pixel, rows padded to whole bytes (28 pixels: 4 bytes a row).
    const bits = shirt!.pixels.map((v) => (v >= 128 ? 1 : 0));
    const packed = new Uint8Array(28 * 4);
    bits.forEach((b, i) => (packed[Math.floor(i / 28) * 4 + ((i % 28) >> 3)]! |= b << (7 - ((i % 28) % 8))));
    const oneBit = encodePng({ width: 28, height: 28, channels: 1, depth: 1, data: packed });
    const grey: RawImage = { data: bits.map((b) => b * 255), width: 28, height: 28, channels: 1 };
    await expectClassified(
      oneBit as Uint8Array<ArrayBuffer>,
      'image/png',
      resnet,
      imageToPixels(grey, resnet.input),
    );
  });

  it('bad images are 400s that say why; keys and limits as for /v1/infer', async () => {
    const good = png(greyImage(shirt!.pixels, resnet.input));
    const huge = good.slice();
    new DataView(huge.buffer).setUint32(16, 5000); // IHDR width: 5000x28, decoded never
    new DataView(huge.buffer).setUint32(20, 5000);
    const cases: [BodyInit, string, number, RegExp][] = [
      ['hello, world', 'image/png', 400, /not a PNG or JPEG image/],
      [good.slice(0, 60), 'image/png', 400, /PNG could not be decoded/],
      [good.slice(0, 20), 'image/png', 400, /PNG is truncated/],
      [huge, 'image/png', 400, /5000x5000 .* at most 4194304 pixels/],
      [new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]), 'image/jpeg', 400, /JPEG could not be decoded/],
      [
        JSON.stringify({ pixels: [1, 2, 3], width: 2, height: 2 }),
        'application/json',
        400,
        /do not fit a 2x2 image/,
      ],
      [
        JSON.stringify({ pixels: [1, 2, 3, 4], width: 2, height: 2, channels: 3 }),
        'application/json',
        400,
        /has 12 values, got 4/,
      ],
      [
        JSON.stringify({ pixels: [300], width: 1, height: 1 }),
        'application/json',
        400,
        /invalid classify request: pixels\.0/,
      ],
      ['{', 'application/json', 400, /body is not JSON/],
      ['', 'image/png', 400, /empty body/],
      [good, 'text/plain', 415, /content-type must be image\/png/],
      [new Uint8Array(5 * 1024 * 1024), 'image/png', 413, /exceeds the limit/],
    ];
    for (const [body, type, status, message] of cases) {
      const res = await classify(body, type);
      const { error } = (await res.json()) as { error: string };
      expect(res.status, `${type} ${error}`).toBe(status);
      expect(error).toMatch(message);
    }
    const unknownModel = await classify(good, 'image/png', '?model=nope');
    expect(unknownModel.status).toBe(404);
    expect((await classify(good, 'image/png', '', {})).status).toBe(401);
  });
});
