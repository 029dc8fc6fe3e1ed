// Experiment 4 (paper Fig. 10): SPINN on a link whose bandwidth and RTT follow a time trace. Records, per request,
// the conditions in force, the split and threshold the scheduler chose, and the latency it achieved.

import { readTrace, conditionsAt, traceDurationMs, type TracePoint } from '../../../harness/link-trace.js';
import { measure, type EvalContext } from '../eval-context.js';
import { latencySla } from '../policies.js';

export interface TraceRow {
  tMs: number;
  mbps: number;
  rttMs: number;
  split: number;
  threshold: number;
  latencyMs: number;
  decidedBy: string;
}

export interface TraceResult {
  trace: TracePoint[];
  file: string;
  rows: TraceRow[];
}

export async function traceExperiment(ctx: EvalContext): Promise<TraceResult> {
  const file = new URL(`../traces/${ctx.cfg.trace}`, import.meta.url).pathname;
  const trace = readTrace(file);
  const duration = traceDurationMs(trace);
  ctx.log(`[4/6 trace] following ${ctx.cfg.trace} for ${(duration / 1000).toFixed(0)} s (SPINN)`);
  // The device loads its client before the first request; the trace starts when the first request starts.
  let t0 = 0;
  const follow = ctx.followTrace(trace);
  const m = await measure(ctx, 'spinn', latencySla('spinn', ctx.cfg.accuracyLossPp), {
    n: 5000,
    job: { warmup: 0, images: Array.from({ length: 5000 }, (_, i) => i % 900) },
    onProgress: (done) => {
      if (done === 1) ctx.log('[4/6 trace] running');
    },
    beforeGo: () => {
      t0 = Date.now();
      follow();
      return t0 + duration;
    },
  });
  const rows = m.records.map((r) => {
    const c = conditionsAt(trace, r.at - t0);
    return {
      tMs: r.at - t0,
      mbps: c.mbps,
      rttMs: c.rttMs,
      split: r.split,
      threshold: r.threshold,
      latencyMs: r.totalMs,
      decidedBy: r.decidedBy,
    };
  });
  ctx.log(`[4/6 trace] ${rows.length} requests`);
  return { trace, file: ctx.cfg.trace, rows };
}
