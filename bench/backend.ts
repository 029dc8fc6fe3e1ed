// `npm run bench:backend`: the backend's throughput and latency at scale. Two real backends (processes, over HTTP
// on loopback) with the same workers and threads, one batching and one not, take closed-loop load at each
// concurrency, for whole-model requests (split 0) and mid-network ones, taking turns in short slices; in each round
// the compute ceiling is measured too: the backend's own sessions running the same requests in-process at batch 32
// on as many threads, with no HTTP, messaging or codec. Ratios are taken within a round, then the median over
// rounds. Prints a table, then one JSON line.

import { Command } from 'commander';
import Table from 'cli-table3';
import { availableParallelism, loadavg } from 'node:os';
import { startBackend, type Service } from '../harness/stack.js';
import { progressBar } from '../tools/cli/progress.js';
import type { BatchLimits } from '../gpu-backend/batching.js';
import { defaultWorkers } from '../gpu-backend/config.js';
import { batchSweep } from './backend/batch-sweep.js';
import { startCeiling } from './backend/ceiling.js';
import { processCpuMs } from './backend/cpu-time.js';
import { closedLoop, combineRuns, type LoadRun } from './backend/load.js';
import { summarizeCells, type Cell, type Mode } from './backend/summary.js';
import { MODEL_DIR, buildWorkload, loadManifest } from './backend/workload.js';

const list = (v: string) => v.split(',').map((x) => Number(x.trim()));
const opts = new Command('bench:backend')
  .option('--rounds <n>', 'interleaved rounds (medians over them)', Number, 5)
  .option('--seconds <s>', 'seconds per measurement of each backend', Number, 2)
  .option('--slices <n>', 'each measurement is this many slices, the two backends alternating', Number, 4)
  .option('--concurrency <list>', 'closed-loop clients', list, [1, 8, 32])
  .option('--splits <list>', 'split points (0 = whole model on the server)', list, [0, 20])
  .option('--threshold <t>', 'early-exit threshold of every request (1 = no early exit)', Number, 1)
  .option('--workers <n>', 'inference workers of both backends', Number, defaultWorkers())
  .option('--threads <n>', 'intra-op threads per session', Number, 1)
  .option('--provider <ep>', 'execution provider of both backends and the ceiling: cpu or cuda', 'cpu')
  .option('--max-batch <n>', "max batch of the batching backend (default: the provider's)", Number)
  .option('--batch-delay-ms <ms>', "batch delay of the batching backend (default: the provider's)", Number)
  .option('--ceiling-batch <n>', 'batch of the in-process ceiling', Number, 32)
  .option('--images <n>', 'Fashion-MNIST test images cycled through', Number, 256)
  .option('--warmup <s>', 'seconds of load per backend and split before measuring', Number, 4)
  .option('--sweep', 'only the in-process batch-size sweep (CPU ms per image at batch 1..32), no servers')
  .parse()
  .opts<{
    rounds: number;
    seconds: number;
    slices: number;
    concurrency: number[];
    splits: number[];
    threshold: number;
    workers: number;
    threads: number;
    provider: string;
    maxBatch?: number;
    batchDelayMs?: number;
    ceilingBatch: number;
    images: number;
    warmup: number;
    sweep?: boolean;
  }>();

const manifest = loadManifest();
const { source, bySplit } = await buildWorkload(manifest, opts.splits, opts.threshold, opts.images);
if (opts.sweep) {
  const sizes = [1, 2, 4, 8, 16, 32];
  const out = await batchSweep(manifest, [...bySplit.values()], sizes, opts.rounds);
  console.log(JSON.stringify({ sweep: true, threshold: opts.threshold, cpuMsPerImage: out }));
  process.exit(0);
}
if (opts.provider !== 'cpu' && opts.provider !== 'cuda') throw new Error('--provider must be cpu or cuda');
const provider = opts.provider;
const token = `bench-${Math.random().toString(36).slice(2)}`;
const common = ['--workers', String(opts.workers), '--threads', String(opts.threads), '--provider', provider];
const limits = [
  ...(opts.maxBatch !== undefined ? ['--max-batch', String(opts.maxBatch)] : []),
  ...(opts.batchDelayMs !== undefined ? ['--batch-delay-ms', String(opts.batchDelayMs)] : []),
];
const backends: Record<'batched' | 'unbatched', Service> = {} as never;
backends.batched = await startBackend({ token, extraArgs: [...common, ...limits] });
backends.unbatched = await startBackend({ token, extraArgs: [...common, '--max-batch', '1'] });
// What the batching backend really runs with (provider defaults resolved, CUDA fallback visible).
const health = (await (
  await fetch(`${backends.batched.url}/health`, { headers: { authorization: `Bearer ${token}` } })
).json()) as { provider: string; batching: Record<string, BatchLimits> };
const batching = health.batching[manifest.id]!;
const ceiling = await startCeiling(opts.workers, {
  modelId: manifest.id,
  dir: MODEL_DIR,
  provider,
  threads: opts.threads,
  spinning: false,
});

const cells: Cell[] = [];
const load0 = loadavg()[0]!;
try {
  // Warm both servers' JIT, sockets and allocators before anything is measured: V8 keeps optimising the request
  // path for several seconds under load (profiled: background compile threads busy, baseline code on the main thread).
  for (const mode of ['batched', 'unbatched'] as const) {
    for (const w of bySplit.values())
      await closedLoop(backends[mode].url, token, w, Math.max(...opts.concurrency), opts.warmup);
  }
  const perRound = opts.splits.length * (opts.concurrency.length * 2 + 1);
  const bar = progressBar('measurements', opts.rounds * perRound);
  let done = 0;
  for (let round = 0; round < opts.rounds; round++) {
    for (const split of opts.splits) {
      const w = bySplit.get(split)!;
      for (const concurrency of opts.concurrency) {
        // The two backends take turns in short slices (ABBA...), so drift on this shared machine hits both alike.
        const runs = { batched: [] as LoadRun[], unbatched: [] as LoadRun[] };
        const cpuMs = { batched: 0, unbatched: 0 };
        for (let slice = 0; slice < opts.slices; slice++) {
          const order: Mode[] = (round + slice) % 2 ? ['batched', 'unbatched'] : ['unbatched', 'batched'];
          for (const mode of order as ('batched' | 'unbatched')[]) {
            const pid = backends[mode].pid;
            const cpu0 = processCpuMs(pid) ?? NaN;
            runs[mode].push(
              await closedLoop(backends[mode].url, token, w, concurrency, opts.seconds / opts.slices),
            );
            cpuMs[mode] += (processCpuMs(pid) ?? NaN) - cpu0;
          }
        }
        for (const mode of ['unbatched', 'batched'] as const) {
          const r = combineRuns(runs[mode]);
          const serverCpuMsPerRequest = cpuMs[mode] / Math.max(1, r.latenciesMs.length);
          cells.push({ round, split, concurrency, mode, ...r, serverCpuMsPerRequest });
          bar.update(++done);
        }
      }
      const c = await ceiling.measure({
        split,
        threshold: opts.threshold,
        batch: opts.ceilingBatch,
        seconds: opts.seconds,
        activations: w.activations,
      });
      cells.push({
        round,
        split,
        concurrency: opts.ceilingBatch,
        mode: 'ceiling',
        throughputRps: c.rps,
        latenciesMs: [],
        failures: 0,
        clientCpuMsPerRequest: 0,
        serverCpuMsPerRequest: c.cpuMsPerImage,
      });
      bar.update(++done);
    }
  }
  bar.stop();
} finally {
  await Promise.all([backends.batched.stop(), backends.unbatched.stop(), ceiling.close()]);
}

const summary = summarizeCells(cells, opts.splits, opts.concurrency);
console.log(
  `bench:backend — ${manifest.id}, ${opts.images} Fashion-MNIST test images (${source}), threshold ${opts.threshold}, ` +
    `fp32 offloads over HTTP on loopback; both backends: ${opts.workers} worker(s) x ${opts.threads} thread(s), ` +
    `${health.provider}; batched: max batch ${batching.maxBatch}, delay ${batching.maxDelayMs} ms; ceiling: in-process, batch ${opts.ceilingBatch}, ` +
    `${opts.workers} thread(s). ${opts.rounds} rounds x ${opts.seconds} s per cell (in ${opts.slices} slices, the ` +
    `two backends alternating), medians over rounds. ` +
    `${availableParallelism()} cores, load average ${load0.toFixed(1)} → ${loadavg()[0]!.toFixed(1)}.`,
);
const t = new Table({
  head: [
    'split',
    'clients',
    'mode',
    'req/s',
    'p50 ms',
    'p99 ms',
    'req/s spread',
    'server CPU ms/req',
    'client CPU ms/req',
  ],
  style: { head: [] },
});
for (const r of summary.rows) {
  t.push([
    r.split,
    r.concurrency,
    r.mode,
    r.throughputRps.toFixed(0),
    r.mode === 'ceiling' ? '' : r.p50Ms.toFixed(1),
    r.mode === 'ceiling' ? '' : r.p99Ms.toFixed(1),
    `${(r.spread * 100).toFixed(0)} %`,
    r.serverCpuMsPerRequest.toFixed(2),
    r.mode === 'ceiling' ? '' : r.clientCpuMsPerRequest.toFixed(2),
  ]);
}
console.log(t.toString());
console.log(
  'req/s spread: (max - min) / median over rounds. Server CPU: all threads of the backend process (ceiling: of the ' +
    'in-process threads). Ratios below are taken within each round, then the median (min-max); the last two are ' +
    'the same ratios in requests per CPU-second, which other load on the machine moves much less.',
);
const rt = new Table({
  head: [
    'split',
    'speedup at 32 (batched/unbatched)',
    'ceiling share at 32 (batched/ceiling)',
    'p99 batched/unbatched at 32',
    'per server CPU-s: speedup',
    'per CPU-s: ceiling share',
  ],
  style: { head: [] },
});
for (const s of summary.bySplit) {
  const f = (x: { median: number; min: number; max: number }) =>
    `${x.median.toFixed(2)} (${x.min.toFixed(2)}-${x.max.toFixed(2)})`;
  rt.push([
    s.split,
    f(s.speedupAt32),
    f(s.ceilingShareAt32),
    f(s.p99RatioAt32),
    f(s.cpuSpeedupAt32),
    f(s.cpuCeilingShareAt32),
  ]);
}
console.log(rt.toString());
console.log(
  JSON.stringify({
    ...summary.json,
    provider: health.provider,
    workers: opts.workers,
    threads: opts.threads,
    ...batching,
    threshold: opts.threshold,
    rounds: opts.rounds,
    secondsPerCell: opts.seconds,
    loadAverage: [load0, loadavg()[0]],
  }),
);
