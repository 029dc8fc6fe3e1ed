// Where a batching backend's CPU goes at one concurrency, per thread: starts one real backend, puts closed-loop load
// on it for each split, and reads each of its threads' CPU time from /proc (main thread, inference workers, libuv and
// onnxruntime threads by name), plus the load generator's own CPU. `npx tsx bench/backend/profile-threads.ts`
// (--attach URL,PID,TOKEN to measure a backend started by hand, e.g. with --cpu-prof).

import { readdirSync, readFileSync } from 'node:fs';
import { Command } from 'commander';
import { startBackend } from '../../harness/stack.js';
import { closedLoop } from './load.js';
import { buildWorkload, loadManifest } from './workload.js';

const TICKS_PER_SECOND = 100;
const opts = new Command('profile-threads')
  .option('--concurrency <n>', 'closed-loop clients', Number, 32)
  .option('--seconds <s>', 'seconds of load per split', Number, 6)
  .option('--splits <list>', 'splits', (v) => v.split(',').map(Number), [0, 20])
  .option('--extra <args>', 'extra backend arguments (space separated)', '')
  .option('--attach <url,pid,token>', 'measure a backend already running (e.g. one started with --cpu-prof)')
  .parse()
  .opts<{ concurrency: number; seconds: number; splits: number[]; extra: string; attach?: string }>();

function threadCpuMs(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const after = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
      const ms = ((Number(after[11]) + Number(after[12])) * 1000) / TICKS_PER_SECOND;
      const key = tid === String(pid) ? 'main' : `${name}:${tid}`;
      out.set(key, (out.get(key) ?? 0) + ms);
    } catch {
      /* thread gone */
    }
  }
  return out;
}

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
