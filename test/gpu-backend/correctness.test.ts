// The backend's answer for a request offloaded at split s must be the answer of the original single model under
// core's exit rule: same exit, same label, same confidence. Real images, real block files, real onnxruntime-node.

import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackend, type Backend } from '../../gpu-backend/server.js';
import { silentLogger } from '../../gpu-backend/log.js';
import {
  DeviceSide,
  SOURCE_MODEL,
  expectedAnswer,
  inferInit,
  newRequestId,
  offloadBody,
  readResult,
  sourceModelExits,
  testConfig,
  testImages,
} from './helpers.js';

describe('gpu-backend correctness', () => {
  let backend: Backend;
  let device: DeviceSide;
  let source: ort.InferenceSession;

  beforeAll(async () => {
    [backend, device, source] = await Promise.all([
      createBackend(testConfig({ workers: 1, threads: 1 }), silentLogger),
      DeviceSide.load(),
      ort.InferenceSession.create(SOURCE_MODEL, { intraOpNumThreads: 1, executionProviders: ['cpu'] }),
    ]);
  });
  afterAll(async () => {
    await backend?.close(0);
  });

  it('matches the single model at every kind of split and threshold', async () => {
    const m = device.manifest;
    const images = testImages(8, m);
    const splits = [0, 1, 5, 13, 20, 21, 26, 27];
    const thresholds = [0.5, 0.8, 0.95, 1];
    let compared = 0;
    const exitsSeen = new Set<number>();
    for (const image of images) {
      const probs = await sourceModelExits(source, image);
      for (const split of splits) {
        const act = await device.activation(image, split);
        for (const threshold of thresholds) {
          const want = expectedAnswer(m, probs, split, threshold);
          const requestId = newRequestId('ok');
          const res = await backend.app.request(
            '/infer',
            inferInit(
              offloadBody({ requestId, split, threshold, values: act.values.slice(), shape: act.shape }),
            ),
          );
          const got = await readResult(res);
          expect(got, `split ${split} thr ${threshold}`).toMatchObject({
            requestId,
            status: 'done',
            exit: want.exit,
            label: want.label,
            blocksRun: want.blocksRun,
          });
          expect(got.confidence!).toBeCloseTo(want.confidence, 4);
          expect(got.serverMs).toBeGreaterThan(0);
          expect(got.queueMs).toBeGreaterThanOrEqual(0);
          exitsSeen.add(got.exit!);
          compared++;
        }
      }
    }
    expect(compared).toBe(images.length * splits.length * thresholds.length);
    // The grid must exercise early exits as well as the final classifier, or it proves little.
    expect(exitsSeen.size).toBeGreaterThanOrEqual(3);
    expect(exitsSeen.has(m.exits.length - 1)).toBe(true);
  });

  it('answers Edgent-style truncated plans at their one exit, and refuses device-side exits', async () => {
    const m = device.manifest;
    const [image] = testImages(1, m);
    const probs = await sourceModelExits(source, image!);
    const split = 5;
    const act = await device.activation(image!, split);
    for (const exit of [1, 2, 4, m.exits.length - 1]) {
      const requestId = newRequestId('edgent');
      const res = await backend.app.request(
        '/infer',
        inferInit(
          offloadBody({ requestId, split, threshold: 0, exit, values: act.values.slice(), shape: act.shape }),
        ),
      );
      const got = await readResult(res);
      const want = probs[exit]!.indexOf(Math.max(...probs[exit]!));
      // Threshold 0 would leave at the first server exit; the truncation must override it.
      expect(got).toMatchObject({
        status: 'done',
        exit,
        label: want,
        blocksRun: m.exits[exit]!.afterBlock + 1 - split,
      });
    }
    const res = await backend.app.request(
      '/infer',
      inferInit(
        offloadBody({
          requestId: newRequestId('edgent'),
          split,
          threshold: 0,
          exit: 0,
          values: act.values.slice(),
          shape: act.shape,
        }),
      ),
    );
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(/exit 0 is not a server-side exit/);
  });

  it('records what happened to each request', async () => {
    const [image] = testImages(1);
    const requestId = newRequestId('rec');
    await readResult(
      await backend.app.request(
        '/infer',
        inferInit(offloadBody({ requestId, split: 0, threshold: 1, values: image!, shape: [1, 1, 32, 32] })),
      ),
    );
    const rec = (await (await backend.app.request(`/requests/${requestId}`)).json()) as Record<
      string,
      unknown
    >;
    expect(rec).toMatchObject({
      requestId,
      status: 'done',
      split: 0,
      threshold: 1,
      blocksRun: 28,
      exit: 6,
      cancelled: false,
    });
    expect(rec.serverMs as number).toBeGreaterThan(0);
    expect((await backend.app.request('/requests/never-seen-id')).status).toBe(404);
  });

  it('never answers a non-finite confidence: an activation that overflows inside the model is a failed run', async () => {
    // Validation stops such inputs at ±1e9 (test/core/offload-validation.test.ts); here the pool is fed one
    // directly, as a model whose logits overflow would be, and the executor's guard must hold on its own.
    const outcome = await backend.pool.submit({
      requestId: newRequestId('nan'),
      modelId: 'resnet56-fmnist',
      split: 27,
      threshold: 1,
      values: new Float32Array(64 * 8 * 8).fill(3.4e38),
      shape: [1, 64, 8, 8],
    });
    expect(outcome).toMatchObject({ status: 'failed', confidence: null, label: null });
    expect(outcome.error).toMatch(/exit 6 \(after block 27\) produced non-finite logits/);
  });
});
