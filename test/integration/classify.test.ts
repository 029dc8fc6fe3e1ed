// POST /v1/classify through the real stack (backend on onnxruntime-node, edge under `wrangler dev`): Fashion-MNIST
// test images as PNG and JPEG files, classified by the server alone, must get the label and exit the original model
// gives the same decoded image under the threshold of the plan the edge chose. The curl example
// (examples/curl/classify.sh, as the README shows it) runs against the same stack.

import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { encode as encodePng } from 'fast-png';
import { encode as encodeJpeg } from 'jpeg-js';
import { describe, expect, it } from 'vitest';
import { decodeImage } from '../../worker/image-input.js';
import { MODEL_DIR, expectedAnswer, sourceModelLogits } from '../client/support/reference.js';
import { REPO_ROOT } from '../support/start-worker.js';
import { manifest, samples, useStack } from './stack-fixture.js';

const { stack } = useStack({}, { BACKEND_TIMEOUT_MS: '600000' });

interface Answer {
  label: number;
  className: string;
  exit: number;
  confidence: number;
  plan: { split: number; threshold: number };
  requestId: string;
}

/** The original model's answer for an image file as the edge decodes it, at the plan's threshold. */
async function modelAnswer(file: Uint8Array, threshold: number) {
  const [logits] = await sourceModelLogits(MODEL_DIR, manifest, [decodeImage(file)]);
  return expectedAnswer(logits!, threshold, manifest);
}

describe('POST /v1/classify on the real stack', () => {
  it('labels Fashion-MNIST PNGs and JPEGs as the model does', async () => {
    const images = samples(12);
    let agree = 0;
    for (const [i, s] of images.entries()) {
      const rgba = Uint8Array.from([...s.pixels].flatMap((v) => [v, v, v, 255]));
      const file =
        i % 2 === 0
          ? encodePng({ width: 28, height: 28, channels: 1, depth: 8, data: s.pixels })
          : new Uint8Array(encodeJpeg({ data: rgba, width: 28, height: 28 }, 85).data);
      const res = await fetch(`${stack().edge.url}/v1/classify?model=${manifest.id}`, {
        method: 'POST',
        headers: { ...stack().edgeHeaders, 'content-type': i % 2 === 0 ? 'image/png' : 'image/jpeg' },
        body: file as Uint8Array<ArrayBuffer>,
      });
      const answer = (await res.json()) as Answer;
      expect(res.status, JSON.stringify(answer)).toBe(200);
      expect(answer.plan.split).toBe(0);
      const want = await modelAnswer(file, answer.plan.threshold);
      expect(answer.label, `image ${s.index}`).toBe(want.label);
      expect(answer.exit, `image ${s.index}`).toBe(want.exit);
      expect(answer.className).toBe(manifest.classes[want.label]);
      expect(answer.confidence).toBeCloseTo(want.confidence, 4);
      if (answer.label === s.label) agree++;
      const record = await fetch(`${stack().edge.url}/v1/requests/${answer.requestId}`, {
        headers: stack().edgeHeaders,
      });
      expect(((await record.json()) as { status: string }).status).toBe('done');
    }
    expect(agree).toBeGreaterThanOrEqual(9); // the model is ~92 % accurate; a broken pipeline (a transposed image, say) is not
  });

  it('the curl example classifies its ankle boot', async () => {
    const png = join(REPO_ROOT, 'examples/images/ankle-boot.png');
    // The example image is test image 0 of Fashion-MNIST, losslessly.
    expect(decodeImage(readFileSync(png)).data).toEqual(samples(1)[0]!.pixels);
    const { stdout } = await promisify(execFile)('sh', [join(REPO_ROOT, 'examples/curl/classify.sh'), png], {
      env: { ...process.env, SPINN_EDGE_URL: stack().edge.url, SPINN_API_KEY: stack().apiKey },
    });
    const answer = JSON.parse(stdout) as Answer;
    const want = await modelAnswer(readFileSync(png), answer.plan.threshold);
    expect(answer).toMatchObject({ label: want.label, exit: want.exit, className: 'Ankle boot' });
  });
});
