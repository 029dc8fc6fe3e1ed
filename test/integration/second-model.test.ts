// The second model (mobilenetv2-fmnist96: 3x96x96 colour input, exits attached by model:exits) through the real
// stack — real backend (onnxruntime-node), real worker under `wrangler dev`, client on onnxruntime-web: every answer
// must equal what the single source model says under the same exit rule, and a server-only request must carry the
// input as uint8 pixels (27,648 bytes, codec u8), for grey samples and for a colour image alike.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseManifest } from '../../core/manifest.js';
import { encodePixels } from '../../core/tensor-codec.js';
import { encodeMessage, PROTOCOL_VERSION, WIRE_CONTENT_TYPE } from '../../core/wire.js';
import { greyImage, type RawImage } from '../../core/preprocess.js';
import { expectedAnswer, sourceModelLogits } from '../client/support/reference.js';
import { newClient, samples, useStack } from './stack-fixture.js';

const MODEL_ID = 'mobilenetv2-fmnist96';
const DIR = join(import.meta.dirname, '../../models', MODEL_ID);
const manifest = parseManifest(JSON.parse(readFileSync(join(DIR, 'manifest.json'), 'utf8')));
const { stack } = useStack();

/** A colour image: the sample's garment tinted orange on a dark blue ground, 120x100 (resized by the client). */
function colourImage(grey: Uint8Array): RawImage {
  const w = 100;
  const h = 120;
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const v = grey[Math.floor((y * 28) / h) * 28 + Math.floor((x * 28) / w)]!;
      data.set([v, Math.round(v * 0.6), 40 - Math.round((v * 40) / 255)], (y * w + x) * 3);
    }
  return { data, width: w, height: h, channels: 3 };
}

describe(`${MODEL_ID} through the real worker and backend`, () => {
  it('serves the model and answers like the single source model, sending the input as uint8 pixels', async () => {
    const models = (await (await fetch(`${stack().edge.url}/v1/models`)).json()) as {
      models: Array<{ id: string }>;
    };
    expect(models.models.map((m) => m.id)).toContain(MODEL_ID);

    const client = await newClient(stack().edge.url, { modelId: MODEL_ID, localContinuation: 'on-failure' });
    const imgs = samples(9, 100);
    const inputs: Array<Uint8Array | RawImage> = imgs.map((s) => s.pixels);
    inputs.push(colourImage(imgs[0]!.pixels));
    const logits = await sourceModelLogits(
      DIR,
      manifest,
      inputs.map((x) => (x instanceof Uint8Array ? greyImage(x, manifest.input) : x)),
    );
    const N = manifest.blocks.length;
    const mid = manifest.exits[1]!.afterBlock + 1;
    const plans = [
      { split: 0, threshold: 1 },
      { split: 0, threshold: 0.9 },
      { split: mid, threshold: 0.95 },
      { split: N, threshold: 0.9 },
    ];
    let pixelOffloads = 0;
    for (const [i, input] of inputs.entries()) {
      const plan = i === inputs.length - 1 ? plans[0]! : plans[i % plans.length]!;
      const r = await client.classify(input, { plan });
      const want = expectedAnswer(logits[i]!, plan.threshold, manifest);
      expect(r.label, `image ${i}`).toBe(want.label);
      expect(r.exit, `image ${i}`).toBe(want.exit);
      if (plan.split === 0) {
        pixelOffloads++;
        expect(r.decidedBy).toBe('server');
        expect(r.plan.codec).toEqual({ scheme: 'u8' });
        // 3x96x96 uint8 pixels plus the msgpack envelope (ids, plan, context).
        expect(r.bytesSent).toBeGreaterThan(27_648);
        expect(r.bytesSent).toBeLessThan(27_648 + 1_000);
      }
    }
    expect(pixelOffloads).toBe(6); // images 0, 1, 4, 5, 8 and the colour one
    await client.dispose();
  });

  it('rejects u8 pixels anywhere but at split 0', async () => {
    const s = manifest.splits[1]!;
    const shape = s.tensor.shape.map((d, i) => (i === 0 ? 1 : d));
    const body = encodeMessage({
      v: PROTOCOL_VERSION,
      requestId: 'u8-at-split-1-xyz',
      modelId: MODEL_ID,
      split: s.split,
      threshold: 1,
      tensor: encodePixels(new Uint8Array(shape.reduce((a, b) => a * b, 1)), shape),
      context: {},
    });
    const res = await fetch(`${stack().edge.url}/v1/infer`, {
      method: 'POST',
      headers: { 'content-type': WIRE_CONTENT_TYPE, ...stack().edgeHeaders },
      body: body as Uint8Array<ArrayBuffer>,
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(/only accepted at split 0/);
  });
});
