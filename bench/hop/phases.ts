// `npm run bench:phases`: where a hop's time goes, before the backend has the offload and after it answered. The
// same steady-state offload (split 5, the client's codec) goes, interleaved in blocks (paths.ts says why), through
// the pass-through worker, the buffered pass-through (the same worker reading the offload and the answer whole, as
// any hop that checks them must), SPINN's worker and, with `--ab <refs>`, the worker of other commits
// (bench/hop/old-worker.ts), all under `wrangler dev` against one timing backend (timing-backend.ts): a real
// backend's recorded answer after `--delay` ms, standing in for the compute, so the backend's own CPU does not blur
// the split. The client and that backend read one clock (this machine's), so each request's time splits into: client
// send → the backend has the whole body ("before"), and the backend's answer written → the client has read it
// ("after"). Prints a table (medians and p95, and each path's excess over the pass-through), then one JSON line.
// `-- --requests N`, `-- --delay ms`, `-- --ab <refs>`.

import Table from 'cli-table3';
import { Command } from 'commander';
import { bearer } from '../../harness/api-keys.js';
import { startBackend, startEdge, type EdgeService } from '../../harness/stack.js';
import { progressBar } from '../../tools/cli/progress.js';
import { startPassThrough } from '../pass-through/start.js';
import { readModelManifest, realActivations } from '../real-activations.js';
import { recordAnswer, steadyStateOffload } from './client-work.js';
import { materialiseWorker } from './old-worker.js';
import { blockSchedule, quantile, send, type HopPath } from './paths.js';
import { startTimingBackend } from './timing-backend.js';

const opts = new Command('bench:phases')
  .option('--requests <n>', 'requests per path', Number, 300)
  .option('--delay <ms>', "the timing backend's answer delay (standing in for compute)", Number, 3)
  .option('--ab <refs>', 'also the worker of these git commits (comma-separated)')
  .parse()
  .opts<{ requests: number; delay: number; ab?: string }>();

interface Phases {
  before: number[];
  after: number[];
  total: number[];
}
const WARMUP = 20;
const token = `phases-${Math.random().toString(36).slice(2)}`;

const manifest = readModelManifest();
const [act] = await realActivations(manifest, 5);
const offload = steadyStateOffload(manifest, 5, act!);

// The real backend's answer to this offload, recorded once.
const real = await startBackend({ token });
const answer = await recordAnswer(`${real.url}/infer`, bearer(token), offload.encode().body).finally(
  real.stop,
);
const backend = await startTimingBackend(answer, opts.delay);
const services: EdgeService[] = [];
try {
  const stack = { backend: { url: backend.url }, token };
  const start = async (starting: Promise<EdgeService>) => {
    const service = await starting;
    services.push(service);
    return service;
  };
  const plain = await start(startPassThrough(stack, 'plain'));
  const buffered = await start(startPassThrough(stack, 'buffered'));
  // Several keys, taken in turn (HopPath.rotate): one key's rate limit (600 per 10 s) is below a long run's pace.
  const edge = await start(startEdge({ backendUrl: backend.url, token, apiKeys: 8 }));
  const keys = edge.apiKeys.map((k) => bearer(k));
  const paths: HopPath[] = [
    { name: 'pass-through', url: plain.url, headers: {} },
    { name: 'buffered pass-through', url: buffered.url, headers: {} },
    { name: "SPINN's worker", url: `${edge.url}/v1/infer`, headers: {}, rotate: keys },
  ];
  for (const ref of opts.ab?.split(',') ?? []) {
    const old = await start(
      startEdge({ backendUrl: backend.url, token, apiKeys: edge.apiKeys, ...materialiseWorker(ref) }),
    );
    paths.push({ name: `SPINN's worker at ${ref}`, url: `${old.url}/v1/infer`, headers: {}, rotate: keys });
  }
  const phases: Record<string, Phases> = Object.fromEntries(
    paths.map((p) => [p.name, { before: [], after: [], total: [] }]),
  );
  const bar = progressBar('phases', (opts.requests + WARMUP) * paths.length);
  // Warm-up, then the measured requests in blocks, as bench:hop sends them (paths.ts says why).
  const schedule = [
    ...paths.flatMap((_, k) => Array<number>(WARMUP).fill(k)),
    ...blockSchedule(paths.length, opts.requests),
  ];
  for (const [i, k] of schedule.entries()) {
    const p = paths[k]!;
    const { sentAt, readAt } = await send(p, offload.body());
    const [[received, answered]] = (await backend.takeTimes()) as [[number, number]];
    if (i >= WARMUP * paths.length) {
      phases[p.name]!.before.push(received - sentAt);
      phases[p.name]!.after.push(readAt - answered);
      phases[p.name]!.total.push(readAt - sentAt);
    }
    bar.update(i + 1);
  }
  bar.stop();
  report(phases, paths[0]!.name);
} finally {
  await Promise.all(services.map((s) => s.stop()));
  backend.stop();
}

function report(phases: Record<string, Phases>, floor: string): void {
  const p50 = (xs: number[]) => quantile(xs, 0.5);
  const base = phases[floor]!;
  const table = new Table({
    head: [
      'path',
      'before p50',
      'after p50',
      'total p50 / p95',
      'over the pass-through: before / after / total p50',
    ],
    style: { head: [] },
  });
  const rows = Object.entries(phases).map(([name, ph]) => ({
    name,
    beforeMsP50: p50(ph.before),
    afterMsP50: p50(ph.after),
    totalMsP50: p50(ph.total),
    totalMsP95: quantile(ph.total, 0.95),
    overBeforeMsP50: p50(ph.before) - p50(base.before),
    overAfterMsP50: p50(ph.after) - p50(base.after),
    overTotalMsP50: p50(ph.total) - p50(base.total),
  }));
  const f = (x: number) => x.toFixed(2);
  for (const r of rows)
    table.push([
      r.name,
      f(r.beforeMsP50),
      f(r.afterMsP50),
      `${f(r.totalMsP50)} / ${f(r.totalMsP95)}`,
      `${f(r.overBeforeMsP50)} / ${f(r.overAfterMsP50)} / ${f(r.overTotalMsP50)}`,
    ]);
  console.log(
    `${opts.requests} requests per path, interleaved; wrangler dev, loopback; a timing backend answering after ` +
      `${opts.delay} ms (emulated compute); ms`,
  );
  console.log(table.toString());
  const round = (x: number) => +x.toFixed(3);
  console.log(
    JSON.stringify({
      requests: opts.requests,
      delayMs: opts.delay,
      paths: rows.map((r) =>
        Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'number' ? round(v) : v])),
      ),
    }),
  );
}
