// bench:backend's compute ceiling: a separate process with the backend's Node flags (ceiling-process.ts) holding as
// many threads as the backend has inference workers, each with the backend's sessions and intra-op threads, running
// the same requests in-process at a fixed batch (32), all at once. What the server reaches over HTTP is compared
// with this; its CPU per image is read from /proc like the backend's.

import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { BACKEND_NODE_FLAGS } from '../../gpu-backend/node-flags.js';
import type { FromCeiling, ToCeiling } from './ceiling-process.js';
import type { CeilingInit, CeilingJob } from './ceiling-worker.js';
import { processCpuMs } from './cpu-time.js';

export interface Ceiling {
  /** Images per second, all threads together, and CPU ms per image of the ceiling's process. */
  measure(job: CeilingJob): Promise<{ rps: number; cpuMsPerImage: number }>;
  close(): Promise<void>;
}

function next(child: ChildProcess): Promise<FromCeiling> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`ceiling process exited (${code})`));
    child.once('exit', onExit);
    child.once('message', (m: FromCeiling) => {
      child.off('exit', onExit);
      resolve(m);
    });
  });
}

export async function startCeiling(threads: number, init: CeilingInit): Promise<Ceiling> {
  const child = fork(fileURLToPath(new URL('./ceiling-process.ts', import.meta.url)), [], {
    execArgv: [...BACKEND_NODE_FLAGS, '--import', 'tsx'],
    serialization: 'advanced', // structured clone: the activations are Float32Arrays
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const tell = (m: ToCeiling) => child.send(m);
  const ready = next(child);
  tell({ type: 'init', threads, init });
  await ready;
  const sent = new Set<number>();
  return {
    async measure({ activations, ...job }) {
      if (!sent.has(job.split)) {
        tell({ type: 'activations', split: job.split, activations });
        sent.add(job.split);
      }
      const cpu0 = processCpuMs(child.pid!) ?? NaN;
      const done = next(child);
      tell({ type: 'measure', job });
      const d = await done;
      if (d.type !== 'done') throw new Error(`ceiling process answered ${d.type}`);
      const cpu = (processCpuMs(child.pid!) ?? NaN) - cpu0;
      return { rps: (d.images / d.ms) * 1000, cpuMsPerImage: cpu / d.images };
    },
    async close() {
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
