// `npm run bench:eval [-- --full] [-- --link kernel]`: reproduces SPINN's experiments (paper §实验, issue 7) on
// the real stack — the client library on a CPU-throttled device process → the emulated link → the worker on
// workerd → the backend — measuring every policy side by side in one run. Writes bench/results/eval-<mode>.json,
// the figures (bench/figures/*.svg) and bench/RESULTS.md (every request's record goes to the untracked
// bench/out/eval-<mode>-records.json); prints progress on stderr and one JSON line last.

import { Command } from 'commander';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { startStack } from '../../harness/stack.js';
import { startLinkProxy } from '../../harness/link-proxy.js';
import { conditionsAt, type TracePoint } from '../../harness/link-trace.js';
import { createNetnsLink, type NetnsLink } from '../../harness/netns-link.js';
import { FULL, QUICK } from './config.js';
import { DeviceHost } from './device-host.js';
import { measureDeviceClasses } from './device-classes.js';
import type { EvalContext } from './eval-context.js';
import { bandwidthExperiment } from './experiments/bandwidth.js';
import { traceExperiment } from './experiments/dynamic-trace.js';
import { oracleFor } from './experiments/oracle.js';
import { resilienceExperiment } from './experiments/resilience.js';
import { serverLoadExperiment } from './experiments/server-load.js';
import { slaExperiment } from './experiments/sla-sweep.js';
import { drawFigures } from './figures.js';
import { loadManifest, referenceExits } from './reference-exits.js';
import { writeReport } from './report.js';
import { compact, headline, type EvalResults } from './results.js';

const opts = new Command()
  .option('--full', 'the full evaluation (100 requests per point, more points; ≈ 15 min here)')
  .option('--link <how>', "who limits bandwidth: 'proxy' (user-space) or 'kernel' (tbf in a netns)", 'proxy')
  .option('--only <list>', 'comma-separated experiments to run (1-6); default all')
  .option(
    '--from <records.json>',
    'no measuring: recompute the oracle, figures and report from a run’s saved records (bench/out/eval-<mode>-records.json)',
  )
  .option(
    '--device <share>',
    'device class the experiments run on, as a share of one core (e.g. 0.1)',
    Number,
  )
  .parse()
  .opts<{ full?: boolean; link: string; only?: string; device?: number; from?: string }>();
if (opts.link !== 'proxy' && opts.link !== 'kernel') throw new Error('--link must be proxy or kernel');
if (opts.device !== undefined && !(opts.device > 0 && opts.device <= 1))
  throw new Error('--device must be in (0, 1]');
const base = opts.full ? FULL : QUICK;
// The experiments run on the first device class; --device puts the chosen one first (the others are still measured).
const cfg = opts.device
  ? { ...base, deviceClasses: [opts.device, ...base.deviceClasses.filter((d) => d !== opts.device)] }
  : base;
const only = new Set((opts.only ?? '1,2,3,4,5,6').split(',').map(Number));
const ROOT = new URL('../..', import.meta.url).pathname;
const t0 = performance.now();
const log = (m: string) => process.stderr.write(`[${((performance.now() - t0) / 1000).toFixed(0)} s] ${m}\n`);

/** The oracle (from the measured records), the files, the figures, the report and the headline line. */
async function finish(results: EvalResults): Promise<void> {
  if (results.bandwidth.length) {
    log('[6/6 oracle] reference exits of the measured images (onnxruntime-node)');
    const manifest = loadManifest();
    const images = [
      ...new Set(results.bandwidth.flatMap((p) => p.results.flatMap((m) => m.records.map((r) => r.image)))),
    ];
    const exits = await referenceExits(images);
    results.oracle = results.bandwidth.map((p) => oracleFor(manifest, p, exits, results.cfg.accuracyLossPp));
  }
  mkdirSync(`${ROOT}bench/results`, { recursive: true });
  writeFileSync(
    `${ROOT}bench/results/eval-${results.cfg.mode}.json`,
    `${JSON.stringify(compact(results), null, 1)}\n`,
  );
  // Every request's record too (plan, what the scheduler saw, timings), outside git: for reading a run's decisions.
  mkdirSync(`${ROOT}bench/out`, { recursive: true });
  writeFileSync(`${ROOT}bench/out/eval-${results.cfg.mode}-records.json`, JSON.stringify(results));
  const figures = await drawFigures(results, `${ROOT}bench/figures`);
  const h = headline(results);
  writeReport(results, h, figures, `${ROOT}bench/RESULTS.md`);
  log(`wrote bench/results/eval-${results.cfg.mode}.json, ${figures.length} figures and bench/RESULTS.md`);
  console.log(JSON.stringify(h));
}

if (opts.from) {
  const saved = JSON.parse(readFileSync(opts.from, 'utf8')) as EvalResults;
  log(`report from ${opts.from} (measured ${saved.startedAt}, ${saved.cfg.mode} mode)`);
  await finish(saved);
  process.exit(0);
}

log(`SPINN evaluation, ${cfg.mode} mode, bandwidth by ${opts.link}`);
const stack = await startStack({ backend: { workers: 1 } });
const edgePort = Number(new URL(stack.edge.url).port);
let netns: NetnsLink | undefined;
const cleanups: Array<() => Promise<void> | void> = [() => stack.stop()];
try {
  if (opts.link === 'kernel') {
    netns = createNetnsLink('spinn-eval', 100);
    cleanups.push(() => netns!.close());
  }
  const proxy = await startLinkProxy({
    targetPort: edgePort,
    listenHost: netns?.hostIp ?? '127.0.0.1',
    bandwidthBy: netns ? 'kernel' : 'proxy',
  });
  cleanups.push(() => proxy.close());
  const spawn = (cpuFraction: number) =>
    DeviceHost.start({
      cpuFraction,
      edgeUrl: proxy.url,
      apiKey: stack.apiKey,
      images: 1000,
      ...(netns ? { wrap: netns.exec } : {}),
    });
  const device = await spawn(cfg.deviceClasses[0]!);
  cleanups.push(() => device.close());
  let traceTimer: NodeJS.Timeout | undefined;
  const ctx: EvalContext = {
    cfg,
    stack,
    proxy,
    device,
    bandwidthBy: netns ? 'kernel' : 'proxy',
    setLink(c) {
      clearInterval(traceTimer);
      proxy.set(c);
      netns?.setRate(c.mbps);
    },
    followTrace(trace: TracePoint[]) {
      return () => {
        proxy.follow(trace);
        if (netns) {
          const start = performance.now();
          let last = NaN;
          traceTimer = setInterval(() => {
            const c = conditionsAt(trace, performance.now() - start);
            if (c.mbps !== last) netns!.setRate((last = c.mbps));
          }, 100);
        }
      };
    },
    log,
  };
  const results: EvalResults = {
    startedAt: new Date().toISOString(),
    durationS: 0,
    cfg,
    host: `${cpus()[0]?.model ?? 'unknown CPU'} (${cpus().length} cores visible), Node ${process.version}`,
    emulation: {
      bandwidth: netns
        ? 'kernel tbf on a veth pair into a network namespace (both directions)'
        : 'user-space TCP link proxy (harness/link-proxy.ts), both directions',
      delayLossOutage: 'user-space TCP link proxy (harness/link-proxy.ts)',
      device: `client in a child process under cgroup v1 CPU quota (${device.describe()})`,
    },
    deviceClasses: [],
    bandwidth: [],
    serverLoad: [],
    sla: [],
    trace: undefined,
    resilience: [],
    oracle: [],
  };
  results.deviceClasses = await measureDeviceClasses(ctx, spawn);
  if (only.has(1) || only.has(6)) results.bandwidth = await bandwidthExperiment(ctx);
  if (only.has(2)) results.serverLoad = await serverLoadExperiment(ctx);
  if (only.has(3)) results.sla = await slaExperiment(ctx);
  if (only.has(4)) results.trace = await traceExperiment(ctx);
  ctx.setLink({ mbps: 100, rttMs: 0 });
  if (only.has(5)) results.resilience = await resilienceExperiment(ctx);
  results.durationS = Math.round((performance.now() - t0) / 1000);
  await finish(results);
} finally {
  for (const c of cleanups.reverse()) await Promise.resolve(c()).catch(() => undefined);
}
process.exit(0);
