// Experiment 2 (paper Fig. 8): latency versus background load on the backend. Load-aware policies (SPINN,
// Neurosurgeon) see the backend's queue in the results; Edgent plans as if the server were idle.

import { measure, type EvalContext, type Measured } from '../eval-context.js';
import { startLoad } from '../load-generator.js';
import { EVAL_POLICIES, latencySla } from '../policies.js';

export interface LoadPoint {
  level: number;
  /** Background requests the backend completed per second during this level. */
  backgroundRps: number;
  results: Measured[];
}

export async function serverLoadExperiment(ctx: EvalContext): Promise<LoadPoint[]> {
  const out: LoadPoint[] = [];
  ctx.setLink(ctx.cfg.loadLink);
  let k = 0;
  for (const level of ctx.cfg.loadLevels) {
    const load = startLoad(ctx.stack.backend.url, ctx.stack.token, level);
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, level ? 1000 : 0));
    const results: Measured[] = [];
    try {
      for (const policy of EVAL_POLICIES) {
        const m = await measure(ctx, policy, latencySla(policy, ctx.cfg.accuracyLossPp));
        results.push(m);
        ctx.log(
          `[2/6 server load ${++k}/${ctx.cfg.loadLevels.length * EVAL_POLICIES.length}] level ${level} ${policy}: ` +
            `mean ${m.summary.meanMs.toFixed(1)} ms, plan ${m.summary.plan}`,
        );
      }
    } finally {
      await load.stop();
    }
    out.push({ level, backgroundRps: (load.done / (performance.now() - t0)) * 1000, results });
  }
  return out;
}
