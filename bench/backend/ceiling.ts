// bench:backend's compute ceiling: as many threads as the backend has inference workers, each with the backend's
// sessions and intra-op threads, running the same requests in-process at a fixed batch (32), all at once. What the
// server reaches over HTTP is compared with this.

import { Worker } from 'node:worker_threads';
import { workerEntry } from '../../gpu-backend/worker-entry.js';
import type { CeilingDone, CeilingInit, CeilingJob } from './ceiling-worker.js';

export interface Ceiling {
  /** Images per second, all threads together, and CPU ms per image (this process, which does nothing else then). */
  measure(job: CeilingJob): Promise<{ rps: number; cpuMsPerImage: number }>;
  close(): Promise<void>;
}

export async function startCeiling(threads: number, init: CeilingInit): Promise<Ceiling> {
  const entry = workerEntry(new URL('./ceiling-worker.ts', import.meta.url));
  const workers = await Promise.all(
    Array.from({ length: threads }, async () => {
      const w = new Worker(entry, { workerData: init });
      await new Promise<void>((resolve, reject) => {
        w.once('message', () => resolve());
        w.once('error', reject);
      });
      return w;
    }),
  );
  return {
    async measure(job) {
      const cpu0 = process.cpuUsage();
      const done = await Promise.all(
        workers.map(
          (w) =>
            new Promise<CeilingDone>((resolve, reject) => {
              const fail = (e: Error) => reject(e);
              w.once('error', fail);
              w.once('message', (d: CeilingDone) => {
                w.off('error', fail);
                resolve(d);
              });
              w.postMessage(job);
            }),
        ),
      );
      const cpu = process.cpuUsage(cpu0);
      const ms = Math.max(...done.map((d) => d.ms));
      const images = done.reduce((a, d) => a + d.images, 0);
      return { rps: (images / ms) * 1000, cpuMsPerImage: (cpu.user + cpu.system) / 1000 / images };
    },
    async close() {
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}
