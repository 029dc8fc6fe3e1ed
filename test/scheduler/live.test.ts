// Live scheduler test: the real worker (workerd via Miniflare) and the real backend (onnxruntime-node), a real
// SpinnClient on onnxruntime-web behind an emulated link (an injected fetch that really delays by bytes/bandwidth).
// SLA: latency ≤ 400 ms, then minimise device cost, then maximise accuracy. On a fast link the server-only plan
// meets the deadline at zero device cost, sending raw fp32 (compressing 4 kB is not worth its encode time on a
// fast link). After the link drops to 10 kB/s the scheduler must cut the bytes it expects to send per request
// within a few requests: by compressing the activation harder, by splitting deeper with a lower threshold so that
// more requests exit on the device, or both. It must never keep the fast-link plan.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SpinnClient, type ClassifyResult } from '../../client/index.js';
import { loadOrtWebForNode } from '../../client/node/ort-node.js';
import { startBackend, type Service } from '../../harness/stack.js';
import { loadFmnistTest } from '../client/support/fmnist.js';
import { emulatedLink } from '../support/emulated-link.js';
import { startWorker, type RunningWorker } from '../support/start-worker.js';

const TOKEN = 'live-scheduler-token';
let backend: Service;
let worker: RunningWorker;
const samples = loadFmnistTest(40);

beforeAll(async () => {
  backend = await startBackend({ token: TOKEN, workers: 1, threads: 1 });
  worker = await startWorker({ backendUrl: backend.url, backendToken: TOKEN });
  // Warm the stack (first Durable Object, first backend session runs) so cold starts do not enter the averages.
  const warm = new SpinnClient({
    edgeUrl: worker.url,
    apiKey: worker.apiKeys[0]!,
    modelId: 'resnet56-fmnist',
    ort: await loadOrtWebForNode({ numThreads: 1 }),
    plan: { split: 0, threshold: 1 },
  });
  for (let i = 0; i < 4; i++) await warm.classify(samples[i]!.pixels);
  await warm.dispose();
});

afterAll(async () => {
  await worker?.stop();
  await backend?.stop();
});

const row = (r: ClassifyResult) => {
  const p = r.schedule?.plan;
  const seen = p?.seen;
  return (
    `split ${r.plan.split} thr ${r.plan.threshold} by ${r.decidedBy} ${r.timings.totalMs.toFixed(1)} ms | ` +
    `next: split ${r.nextPlan?.split ?? '-'} thr ${r.nextPlan?.threshold ?? '-'} | saw bw ` +
    `${seen ? (seen.bandwidthBps / 1000).toFixed(0) : '-'} kB/s rtt ${seen?.rttMs.toFixed(1) ?? '-'} ms load ` +
    `${seen?.serverLoad.toFixed(2) ?? '-'} SF ${seen?.deviceScale.toFixed(2) ?? '-'}`
  );
};

describe('scheduler, live', () => {
  it('a bandwidth drop cuts the bytes each request is expected to send within a few requests', async () => {
    const link = emulatedLink(50_000_000, 2);
    const client = new SpinnClient({
      edgeUrl: worker.url,
      apiKey: worker.apiKeys[0]!,
      modelId: 'resnet56-fmnist',
      fetch: link.fetch,
      ort: await loadOrtWebForNode({ numThreads: 1 }),
      sla: { limits: { maxLatencyMs: 400 }, priority: ['deviceCost', 'accuracy', 'latency'] },
      offloadTimeoutMs: 10_000,
      planRefreshEvery: 2,
      // The estimator models the device waiting for the server (no racing continuation), as here.
      localContinuation: 'on-failure',
    });
    try {
      await client.load();
      let i = 0;
      console.log(`[live] fast link: ${link.describe()}`);
      let fast: ClassifyResult | undefined;
      for (; i < 5; i++) {
        fast = await client.classify(samples[i]!.pixels);
        console.log(`[live] #${i} ${row(fast)}`);
      }
      const before = client.scheduledPlan!.plan;
      console.log(`[live] plan after the fast phase: ${before.reason}`);
      expect(before.split).toBe(0);
      expect(before.feasible).toBe(true);

      link.bandwidthBps = 10_000;
      console.log(`[live] slow link: ${link.describe()}`);
      const bytesOf = (p: NonNullable<typeof client.scheduledPlan>['plan']) => p.estimate!.uploadBytes;
      let moved: number | undefined;
      for (let k = 0; k < 8; k++, i++) {
        const r = await client.classify(samples[i]!.pixels);
        console.log(`[live] #${i} ${row(r)}`);
        const p = client.scheduledPlan!.plan;
        if (moved === undefined && bytesOf(p) < bytesOf(before) / 4) moved = k + 1;
      }
      const after = client.scheduledPlan!.plan;
      console.log(`[live] plan moved after ${moved} slow-link requests: ${after.reason}`);
      expect(moved).toBeDefined();
      // Bandwidth is a moving average and the plan is refreshed every other request, so a few requests pass first.
      expect(moved!).toBeLessThanOrEqual(6);
      // The direction: fewer expected bytes per request, through a stronger codec or a deeper split / lower threshold.
      const compressedHarder = after.codec.scheme !== 'fp32' && before.codec.scheme === 'fp32';
      const exitsMoreOnDevice = after.split > before.split && after.threshold <= before.threshold;
      expect(compressedHarder || exitsMoreOnDevice).toBe(true);
      expect(after.seen!.bandwidthBps).toBeLessThan(50_000);
    } finally {
      await client.dispose();
    }
  });
});
