// Where a batching backend's CPU goes at one concurrency, per thread: starts one real backend, puts closed-loop load
// on it for each split, and prints each of its threads' CPU time per request from /proc (`main` is the HTTP thread;
// the others by name and thread id: the two busiest are the inference workers, the rest V8's and libuv's helpers),
// plus the load generator's own CPU. `npx tsx bench/backend/profile-threads.ts` (--attach URL,PID,TOKEN to measure a
// backend started by hand, e.g. with `node --cpu-prof`). gpu-backend/README.md quotes its output.

import { Command } from 'commander';
import { startBackend } from '../../harness/stack.js';
import { threadCpuMs } from './cpu-time.js';
import { closedLoop } from './load.js';
import { buildWorkload, loadManifest } from './workload.js';

const opts = new Command('profile-threads')
  .option('--concurrency <n>', 'closed-loop clients', Number, 32)
  .option('--seconds <s>', 'seconds of load per split', Number, 6)
  .option('--splits <list>', 'splits', (v) => v.split(',').map(Number), [0, 20])
  .option('--extra <args>', 'extra backend arguments (space separated)', '')
  .option('--attach <url,pid,token>', 'measure a backend already running (e.g. one started with --cpu-prof)')
  .parse()
  .opts<{ concurrency: number; seconds: number; splits: number[]; extra: string; attach?: string }>();

const manifest = loadManifest();
const { bySplit } = await buildWorkload(manifest, opts.splits, 1, 256);
const [attachUrl, attachPid, attachToken] = opts.attach?.split(',') ?? [];
const token = attachToken ?? 'prof';
const backend = attachUrl
  ? { url: attachUrl, pid: Number(attachPid), stop: async () => {} }
  : await startBackend({ token, extraArgs: ['--provider', 'cpu', ...opts.extra.split(' ').filter(Boolean)] });
try {
  for (const split of opts.splits) {
    const w = bySplit.get(split)!;
    await closedLoop(backend.url, token, w, opts.concurrency, 3); // warm-up
    const before = threadCpuMs(backend.pid);
    const r = await closedLoop(backend.url, token, w, opts.concurrency, opts.seconds);
    const after = threadCpuMs(backend.pid);
    const n = r.latenciesMs.length;
    const rows = [...after].map(([k, v]) => [k, ((v - (before.get(k) ?? 0)) / n).toFixed(3)]);
    const total = rows.reduce((a, [, v]) => a + Number(v), 0);
    console.log(
      JSON.stringify({
        split,
        rps: Math.round(r.throughputRps),
        msPerReq: Object.fromEntries(rows.filter(([, v]) => Number(v) > 0)),
        serverTotal: total.toFixed(3),
        client: r.clientCpuMsPerRequest.toFixed(3),
      }),
    );
  }
} finally {
  await backend.stop();
}
