// Experiment 5 (paper Fig. 12): resilience. The backend is killed a third of the way into a run (and stays down), the
// link loses segments and resets connections, or it goes into an outage (black hole, then refusal). SPINN (early
// exits; its remaining blocks start on the device once the server fails or is overdue) against a single-exit model
// with dynamic splitting (policy spinn-no-exits): share of requests answered at all and within the SLA, accuracy,
// p99 latency.
// When offloading does not pay, the scheduler keeps both on the device and no failure can touch them — resilience by
// not depending on the server, but no test of the fallback. So each scenario also runs both with the offload forced
// (a fixed plan at split 5): SPINN's plan exits on the device when confident and hedges the server otherwise; the
// single-exit run offloads every request and computes locally only once the offload has failed.

import type { Policy } from '../../../core/sla.js';
import { measure, restartBackend, type EvalContext, type Measured } from '../eval-context.js';
import { latencySla } from '../policies.js';

interface ResilienceRun {
  policy: Policy;
  label?: string;
  plan?: { split: number; threshold: number };
}

export const FORCED_SPLIT = 5;
export const RESILIENCE_RUNS: ResilienceRun[] = [
  { policy: 'spinn' },
  { policy: 'spinn-no-exits' },
  {
    policy: 'spinn',
    label: `spinn, offload forced (split ${FORCED_SPLIT}, thr 0.85)`,
    plan: { split: FORCED_SPLIT, threshold: 0.85 },
  },
  {
    policy: 'spinn-no-exits',
    label: `single exit, offload forced (split ${FORCED_SPLIT})`,
    plan: { split: FORCED_SPLIT, threshold: 1 },
  },
];
export type Scenario = 'none' | 'server-killed' | 'loss' | 'outage';
export const SCENARIOS: Scenario[] = ['none', 'server-killed', 'loss', 'outage'];

export const SCENARIO_TEXT: Record<Scenario, string> = {
  none: 'no failure (reference)',
  'server-killed': 'backend process killed (SIGTERM to its group) after 1/3 of the requests; stays down',
  loss: '5 % of segments lost (each delayed by one RTO ≥ 200 ms) and 2 % of client→server segments reset the connection',
  outage: 'after 1/3 of the requests: 3 s black hole (no bytes move), then 3 s refusal (connections reset)',
};

export interface ResiliencePoint {
  scenario: Scenario;
  results: Measured[];
}

export async function resilienceExperiment(ctx: EvalContext): Promise<ResiliencePoint[]> {
  const { resilienceLink, resilienceSlaMs: slaMs, resilienceRequests: n, accuracyLossPp } = ctx.cfg;
  ctx.setLink(resilienceLink);
  const out: ResiliencePoint[] = [];
  let k = 0;
  for (const scenario of SCENARIOS) {
    const results: Measured[] = [];
    for (const { policy, label, plan } of RESILIENCE_RUNS) {
      const at = ctx.cfg.warmup + Math.floor(n / 3);
      let killed: Promise<void> | undefined;
      const timers: NodeJS.Timeout[] = [];
      if (scenario === 'loss') ctx.proxy.setLoss({ segmentLossRate: 0.05, resetRate: 0.02 });
      const onProgress = (done: number) => {
        if (done !== at) return;
        if (scenario === 'server-killed') killed = ctx.stack.backend.stop();
        if (scenario === 'outage') {
          ctx.proxy.outage('blackhole', 3000);
          timers.push(setTimeout(() => ctx.proxy.outage('refuse', 3000), 3000));
        }
      };
      let m: Measured;
      try {
        m = await measure(ctx, policy, latencySla(policy, accuracyLossPp, slaMs), {
          n,
          slaMs,
          offloadTimeoutMs: slaMs,
          onProgress,
          ...(plan ? { job: { sla: undefined, plan } } : {}),
        });
        if (label) m.label = label;
      } finally {
        for (const t of timers) clearTimeout(t);
        ctx.proxy.endOutage();
        ctx.proxy.setLoss({});
        if (killed) {
          await killed;
          await restartBackend(ctx);
        }
      }
      results.push(m);
      const s = m.summary;
      ctx.log(
        `[5/6 resilience ${++k}/${SCENARIOS.length * RESILIENCE_RUNS.length}] ${scenario} ${label ?? policy}: answered ` +
          `${(s.answeredShare * 100).toFixed(0)} %, within SLA ${((s.withinSlaShare ?? 0) * 100).toFixed(0)} %, p99 ${s.p99Ms.toFixed(0)} ms`,
      );
    }
    out.push({ scenario, results });
  }
  return out;
}
