// Experiment 4 (paper Fig. 12, made symmetric by issue 16): the backend is killed a third of the way into a run
// (and stays down), the link loses segments and resets connections, or it goes into an outage (black hole, then
// refusal). Every offloading system runs with the same hedge as SPINN (the device starts its remaining blocks once
// the server is overdue or has failed) and the same offload timeout (the SLA's deadline): share answered, share
// within the SLA, accuracy, p99.

import type { RequestRecord } from '../device-protocol.js';
import { cellJob, restartBackend, startWarmDevice, type EvalContext } from '../eval-context.js';
import { cellImages } from '../grid.js';
import { HEDGED, OFFLOADING } from '../policies.js';

export type Scenario = 'none' | 'server-killed' | 'loss' | 'outage';
export const SCENARIOS: Scenario[] = ['none', 'server-killed', 'loss', 'outage'];

export const SCENARIO_TEXT: Record<Scenario, string> = {
  none: 'no failure (reference)',
  'server-killed': 'backend process killed (SIGTERM to its group) after 1/3 of the requests; stays down',
  loss: '5 % of segments lost (each delayed by one RTO ≥ 200 ms) and 2 % of client→server segments reset the connection',
  outage: 'after 1/3 of the requests: 3 s black hole (no bytes move), then 3 s refusal (connections reset)',
};

export interface ResilienceRun {
  scenario: Scenario;
  system: string;
  records: RequestRecord[];
}

export async function resilienceExperiment(ctx: EvalContext): Promise<ResilienceRun[]> {
  const { model, cpu, link, slaMs, requests: n } = ctx.cfg.resilience;
  const systems = HEDGED.filter((s) => OFFLOADING.includes(s.policy));
  ctx.setLink(link);
  ctx.progress.start('4/4 resilience', SCENARIOS.length * systems.length);
  const host = await startWarmDevice(ctx, { model, deviceModel: 'process', cpu, name: 'resilience' });
  const out: ResilienceRun[] = [];
  try {
    for (const [si, scenario] of SCENARIOS.entries()) {
      const images = cellImages(3000 + si, 0, 1, n, ctx.cfg.warmup);
      for (const system of systems) {
        const at = Math.floor(n / 3);
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
        try {
          const job = cellJob(
            { ...ctx, cfg: { ...ctx.cfg, deadlineMs: slaMs, offloadTimeoutMs: slaMs } },
            { system, slaKind: 'latency', warmupImages: images.warmup, images: images.measured, nBlocks: 0 },
          );
          const r = await host.run({ ...job, progress: true }, onProgress);
          out.push({ scenario, system: system.id, records: r.records });
        } finally {
          for (const t of timers) clearTimeout(t);
          ctx.proxy.endOutage();
          ctx.proxy.setLoss({});
          if (killed) {
            await killed;
            await restartBackend(ctx);
          }
        }
        ctx.progress.tick(`${scenario} ${system.id}`);
      }
    }
  } finally {
    await host.close();
  }
  return out;
}
