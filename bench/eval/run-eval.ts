// `npm run bench:eval [-- --full] [-- --link kernel] [-- --only grid,shared,cost,resilience]`: evaluation v2
// (issue 16) on the real stack — the client library on a CPU-throttled device process → the emulated link → the
// worker on workerd → the backend — every system side by side in interleaved repetitions. Calibrates the scheduler
// on half of the test split first (cached), then runs the grid (with the oracle's probes), K clients on a shared
// backend, the server-cost SLA and resilience. Writes the records (bench/out/eval-<mode>-records.json), the
// analysed numbers, the figures and the report — bench/results/eval-full.json, bench/RESULTS.md and bench/figures/
// only for `--full`; a quick run writes bench/out/eval-quick.json, RESULTS-quick.md and figures-quick/.
// Progress on stderr; tables in the report; one JSON line last on stdout.

import { Command } from 'commander';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { startLinkProxy } from '../../harness/link-proxy.js';
import { createNetnsLink, type NetnsLink } from '../../harness/netns-link.js';
import { startStack } from '../../harness/stack.js';
import { analysePoint, analyseResilience, analyseShared } from './analysis.js';
import { calibrate, type Calibration } from './calibration.js';
import { FULL, QUICK } from './config.js';
import type { EvalContext } from './eval-context.js';
import { gridExperiment, serverCostExperiment } from './experiments/grid.js';
import { resilienceExperiment } from './experiments/resilience.js';
import { sharedServerExperiment } from './experiments/shared-server.js';
import { drawFigures } from './figures.js';
import { createProgress } from './progress.js';
import { writeReport } from './report.js';
import { headline, type Analysed, type RunRecords } from './results.js';

const EXPERIMENTS = ['grid', 'shared', 'cost', 'resilience'] as const;

const opts = new Command()
  .option('--full', 'the full evaluation (≤ 60 min here): the whole grid, 5 repetitions, K up to 16')
  .option('--link <how>', "who limits bandwidth: 'proxy' (user-space) or 'kernel' (tbf in a netns)", 'proxy')
  .option('--only <list>', `comma-separated experiments (${EXPERIMENTS.join(',')}); default all`)
  .option('--model <id>', 'run the grid for this model only')
  .option(
    '--from <records.json>',
    'no measuring: re-analyse a run’s saved records (bench/out/eval-<mode>-records.json)',
  )
  .parse()
  .opts<{ full?: boolean; link: string; only?: string; from?: string; model?: string }>();
if (opts.link !== 'proxy' && opts.link !== 'kernel') throw new Error('--link must be proxy or kernel');
const only = new Set(opts.only ? opts.only.split(',') : EXPERIMENTS);
for (const x of only)
  if (!(EXPERIMENTS as readonly string[]).includes(x)) throw new Error(`--only: unknown experiment ${x}`);
const base = opts.full ? FULL : QUICK;
const cfg = opts.model ? { ...base, grid: base.grid.filter((g) => g.model === opts.model) } : base;
if (!cfg.grid.length) throw new Error(`--model: no grid spec for ${opts.model}`);
const ROOT = new URL('../..', import.meta.url).pathname;
const SITE = join(ROOT, 'bench/out/eval-site');
const t0 = performance.now();
const progress = createProgress(t0);

async function calibrations(models: string[]): Promise<Map<string, Calibration>> {
  const out = new Map<string, Calibration>();
  for (const m of models) out.set(m, await calibrate(m, SITE, cfg.codecSamples, progress.log));
  return out;
}

/** Analysis, files, figures, report and the headline line. */
async function finish(run: RunRecords, cals: Map<string, Calibration>): Promise<void> {
  const c = run.cfg;
  const point = (p: RunRecords['grid'][number]) => {
    const cal = cals.get(p.point.model)!;
    return analysePoint(p, c, cal.manifest, cal.exits);
  };
  const a: Analysed = {
    grid: run.grid.map(point),
    shared: analyseShared(run.shared, c.deadlineMs),
    serverCost: run.serverCost.map(point),
    resilience: analyseResilience(run.resilience, c.resilience.slaMs),
  };
  const h = headline(run, a);
  const full = c.mode === 'full';
  // Only a full run's numbers are kept in git (bench/results/); a quick run's stay in bench/out/.
  const numbers = full ? 'bench/results/eval-full.json' : 'bench/out/eval-quick.json';
  mkdirSync(join(ROOT, numbers, '..'), { recursive: true });
  writeFileSync(join(ROOT, numbers), `${JSON.stringify({ headline: h, ...a }, null, 1)}\n`);
  const figDir = full ? 'figures' : 'figures-quick';
  const figures = await drawFigures(a, join(ROOT, full ? 'bench/figures' : 'bench/out/figures-quick'));
  const report = full ? join(ROOT, 'bench/RESULTS.md') : join(ROOT, 'bench/out/RESULTS-quick.md');
  writeReport(run, a, h, figures, figDir, report);
  progress.log(`wrote ${numbers}, ${figures.length} figures and ${report.slice(ROOT.length)}`);
  console.log(JSON.stringify(h));
}

async function measure(): Promise<RunRecords> {
  const models = [
    ...new Set([
      ...(only.has('grid') ? cfg.grid.map((g) => g.model) : []),
      ...(only.has('shared') ? [cfg.shared.model] : []),
      ...(only.has('cost') ? [cfg.serverCost.point.model] : []),
      ...(only.has('resilience') ? [cfg.resilience.model] : []),
    ]),
  ];
  const cals = await calibrations(models);
  progress.log(`SPINN evaluation v2, ${cfg.mode} mode, bandwidth by ${opts.link}`);
  const stack = await startStack({ backend: { workers: 1 }, edgeAssets: SITE });
  const cleanups: Array<() => Promise<void> | void> = [() => stack.stop()];
  try {
    let netns: NetnsLink | undefined;
    if (opts.link === 'kernel') {
      netns = createNetnsLink('spinn-eval', 100);
      cleanups.push(() => netns!.close());
    }
    const proxy = await startLinkProxy({
      targetPort: Number(new URL(stack.edge.url).port),
      listenHost: netns?.hostIp ?? '127.0.0.1',
      bandwidthBy: netns ? 'kernel' : 'proxy',
    });
    cleanups.push(() => proxy.close());
    const ctx: EvalContext = {
      cfg,
      stack,
      proxy,
      siteDir: SITE,
      calibrations: cals,
      bandwidthBy: netns ? 'kernel' : 'proxy',
      setLink(l) {
        proxy.set({ mbps: l.mbps, rttMs: l.rttMs });
        netns?.setRate(l.mbps);
      },
      ...(netns ? { wrap: netns.exec } : {}),
      progress,
    };
    const run: RunRecords = {
      startedAt: new Date().toISOString(),
      durationS: 0,
      cfg,
      host: `${cpus()[0]?.model ?? 'unknown CPU'} (${cpus().length} cores visible), Node ${process.version}`,
      emulation: {
        bandwidth: netns
          ? 'kernel tbf on a veth pair into a network namespace (both directions)'
          : 'user-space TCP link proxy (harness/link-proxy.ts), both directions',
        delayLossOutage: 'user-space TCP link proxy (harness/link-proxy.ts)',
      },
      calibration: Object.fromEntries([...cals].map(([m, c]) => [m, c.text])),
      grid: [],
      shared: [],
      serverCost: [],
      resilience: [],
      phaseSeconds: { setup: Math.round((performance.now() - t0) / 1000) },
    };
    const timed = async <T>(name: string, f: () => Promise<T>): Promise<T> => {
      const t = performance.now();
      const r = await f();
      run.phaseSeconds[name] = Math.round((performance.now() - t) / 1000);
      return r;
    };
    if (only.has('grid')) run.grid = await timed('grid', () => gridExperiment(ctx));
    if (only.has('shared')) run.shared = await timed('shared', () => sharedServerExperiment(ctx));
    if (only.has('cost')) run.serverCost = await timed('cost', () => serverCostExperiment(ctx));
    if (only.has('resilience')) run.resilience = await timed('resilience', () => resilienceExperiment(ctx));
    progress.stop();
    run.durationS = Math.round((performance.now() - t0) / 1000);
    mkdirSync(join(ROOT, 'bench/out'), { recursive: true });
    writeFileSync(join(ROOT, `bench/out/eval-${cfg.mode}-records.json`), JSON.stringify(run));
    await finish(run, cals);
    return run;
  } finally {
    for (const c of cleanups.reverse()) await Promise.resolve(c()).catch(() => undefined);
  }
}

if (opts.from) {
  const saved = JSON.parse(readFileSync(opts.from, 'utf8')) as RunRecords;
  progress.log(`report from ${opts.from} (measured ${saved.startedAt}, ${saved.cfg.mode} mode)`);
  const models = [...new Set(saved.grid.map((p) => p.point.model))];
  await finish(saved, await calibrations(models));
} else await measure();
process.exit(0);
