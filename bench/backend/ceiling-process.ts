// The process of bench:backend's compute ceiling, started with the backend's own Node flags
// (gpu-backend/node-flags.ts) so that it runs exactly as a backend would: it starts as many ceiling threads as the
// backend has inference workers and, per measurement (one IPC message, never one per request), runs them all at
// once and answers how many images they finished.

import { Worker } from 'node:worker_threads';
import { workerEntry } from '../../gpu-backend/worker-entry.js';
import type { CeilingDone, CeilingInit, CeilingJob } from './ceiling-worker.js';

export type ToCeiling =
  | { type: 'init'; threads: number; init: CeilingInit }
  | { type: 'activations'; split: number; activations: CeilingJob['activations'] }
  | { type: 'measure'; job: Omit<CeilingJob, 'activations'> };
export type FromCeiling = { type: 'ready' } | { type: 'done'; images: number; ms: number };

const send = (m: FromCeiling) => process.send!(m);
const workers: Worker[] = [];
const activations = new Map<number, CeilingJob['activations']>();

function runOne(w: Worker, job: CeilingJob): Promise<CeilingDone> {
  return new Promise((resolve, reject) => {
    const fail = (e: Error) => reject(e);
    w.once('error', fail);
    w.once('message', (d: CeilingDone) => {
      w.off('error', fail);
      resolve(d);
    });
    w.postMessage(job);
  });
}

process.on('message', (msg: ToCeiling) => {
  void (async () => {
    if (msg.type === 'init') {
      const entry = workerEntry(new URL('./ceiling-worker.ts', import.meta.url));
      for (let i = 0; i < msg.threads; i++) {
        const w = new Worker(entry, { workerData: msg.init });
        await new Promise<void>((resolve, reject) => {
          w.once('message', () => resolve());
          w.once('error', reject);
        });
        workers.push(w);
      }
      send({ type: 'ready' });
    } else if (msg.type === 'activations') {
      activations.set(msg.split, msg.activations);
    } else {
      const job = { ...msg.job, activations: activations.get(msg.job.split)! };
      const done = await Promise.all(workers.map((w) => runOne(w, job)));
      send({
        type: 'done',
        images: done.reduce((a, d) => a + d.images, 0),
        ms: Math.max(...done.map((d) => d.ms)),
      });
    }
  })().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
});
