// npm run bench:scheduler — how long one scheduling decision takes over every candidate plan of resnet56-fmnist
// (splits × thresholds × codec options), per policy, across a sweep of contexts (bandwidth, RTT, device scale,
// server load) so no decision is served from a warm branch. Prints a table, then one JSON line for machines.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Table from 'cli-table3';
import { parseManifest } from '../core/manifest.js';
import { schedule } from '../core/scheduler.js';
import type { SchedulerContext } from '../core/scheduler-context.js';
import { parseSla, POLICIES, type Sla } from '../core/sla.js';

const ROOT = new URL('..', import.meta.url).pathname;
const manifest = parseManifest(
  JSON.parse(readFileSync(join(ROOT, 'models/resnet56-fmnist/manifest.json'), 'utf8')),
);
const ROUNDS = Number(process.env.ROUNDS ?? 4000);

function contextAt(i: number): SchedulerContext {
  return {
    deviceScale: 0.5 + (i % 7) * 0.5,
    bandwidthBps: 10_000 * 2 ** (i % 14),
    rttMs: 1 + (i % 11) * 5,
    offloadOverheadMs: (i % 4) * 10,
    serverScale: 1 + (i % 3) * 0.5,
    serverLoad: 1 + (i % 5),
    serverAvailable: true,
  };
}

const pct = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

function measure(sla: Sla) {
  for (let i = 0; i < 300; i++) schedule({ manifest, sla, context: contextAt(i) }); // JIT warm-up
  const times: number[] = [];
  let candidates = 0;
  const splits = new Set<number>();
  for (let i = 0; i < ROUNDS; i++) {
    const context = contextAt(i);
    const t0 = performance.now();
    const d = schedule({ manifest, sla, context });
    times.push(performance.now() - t0);
    candidates = d.candidates;
    splits.add(d.split);
  }
  times.sort((a, b) => a - b);
  return { candidates, p50: pct(times, 50), p99: pct(times, 99), distinctSplits: splits.size };
}

const table = new Table({
  head: ['policy', 'candidates', 'decision ms p50', 'p99', 'distinct splits chosen'],
});
let spinn: ReturnType<typeof measure> | undefined;
for (const policy of POLICIES) {
  const r = measure(parseSla({ policy, limits: { maxLatencyMs: 15 }, priority: ['accuracy', 'latency'] }));
  if (policy === 'spinn') spinn = r;
  table.push([policy, r.candidates, r.p50.toFixed(4), r.p99.toFixed(4), r.distinctSplits]);
}
console.log(
  `scheduler decision time, ${ROUNDS} decisions per policy over a context sweep (Node ${process.version})`,
);
console.log(table.toString());
console.log(
  JSON.stringify({
    candidates: spinn!.candidates,
    decisionMsP50: Number(spinn!.p50.toFixed(4)),
    decisionMsP99: Number(spinn!.p99.toFixed(4)),
  }),
);
