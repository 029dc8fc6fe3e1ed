// One thread of bench:backend's compute ceiling: the backend's own sessions (gpu-backend/sessions.ts, same options)
// running core's batched walk on fixed batches of real activations in a loop, with no HTTP, no messages per request
// and no codec. Told what to run by one message per measurement, it answers with how many images it finished.

import { parentPort, workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { runProgressiveBatch } from '../../core/progressive-batch.js';
import { createTensor, loadSessions, warmUp, type SessionSettings } from '../../gpu-backend/sessions.js';

export interface CeilingInit extends SessionSettings {
  modelId: string;
  dir: string;
}

export interface CeilingJob {
  split: number;
  threshold: number;
  batch: number;
  seconds: number;
  activations: { values: Float32Array; shape: number[] }[];
}

export interface CeilingDone {
  images: number;
  ms: number;
}

const init = workerData as CeilingInit;
const loaded = await loadSessions([{ id: init.modelId, dir: init.dir }], init);
const model = loaded.models.get(init.modelId)!;
await warmUp(loaded.models, [1, 32]);
parentPort!.postMessage({ ready: true, provider: loaded.provider });

parentPort!.on('message', async (job: CeilingJob) => {
  let images = 0;
  let next = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < job.seconds * 1000) {
    const items = Array.from({ length: job.batch }, () => {
      const a = job.activations[next++ % job.activations.length]!;
      return { input: a.values, inputShape: a.shape, fromBlock: job.split, threshold: job.threshold };
    });
    await runProgressiveBatch({
      manifest: model.manifest,
      sessions: model.sessions,
      createTensor,
      items,
      toBlock: model.manifest.blocks.length,
    });
    images += job.batch;
  }
  parentPort!.postMessage({ images, ms: performance.now() - t0 } satisfies CeilingDone);
});
