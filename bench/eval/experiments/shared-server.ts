// Experiment 2 (issue 16, item 5; the paper's system claims): K client devices share one backend in closed loop,
// each a device process throttled to its class, all running the same policy at once. Per policy and K: the
// inferences per second that meet the SLA's deadline (summed over clients) and the server compute per answered
// request. Each K's policies run in rotating order; the device processes are started once.

import type { Policy } from '../../../core/sla.js';
import type { DeviceHost } from '../device-host.js';
import type { RequestRecord } from '../device-protocol.js';
import { cellJob, startWarmDevice, type EvalContext } from '../eval-context.js';
import { cellImages, rotatedOrder } from '../grid.js';
import { HEDGED } from '../policies.js';

export interface SharedRun {
  clients: number;
  policy: string;
  /** Per client: its records and the wall time of its measured loop. */
  perClient: Array<{ records: RequestRecord[]; wallMs: number }>;
}

export async function sharedServerExperiment(ctx: EvalContext): Promise<SharedRun[]> {
  const { shared, deadlineMs } = ctx.cfg;
  const systems = shared.policies.map((p) => HEDGED.find((s) => s.policy === (p as Policy))!);
  const maxK = Math.max(...shared.clients);
  ctx.setLink(shared.link);
  ctx.progress.start('2/4 shared server', shared.clients.length * systems.length);
  ctx.progress.log(
    `[shared] starting ${maxK} device processes (${shared.model}, ${shared.cpu * 100} % each)`,
  );
  const hosts: DeviceHost[] = [];
  const out: SharedRun[] = [];
  try {
    // Started and warmed up together (each one alone in its own CPU group).
    hosts.push(
      ...(await Promise.all(
        Array.from({ length: maxK }, (_, k) =>
          startWarmDevice(ctx, {
            model: shared.model,
            deviceModel: 'process',
            cpu: shared.cpu,
            name: `client${k}`,
          }),
        ),
      )),
    );
    for (const [ki, K] of shared.clients.entries()) {
      for (const system of rotatedOrder(systems, ki, shared.clients.length)) {
        let until: number | undefined;
        const runs = await Promise.all(
          hosts.slice(0, K).map((h, c) => {
            const images = cellImages(2000 + c, ki, shared.clients.length, 200, ctx.cfg.warmup);
            const job = cellJob(ctx, {
              system,
              slaKind: 'latency',
              warmupImages: images.warmup,
              images: images.measured,
              nBlocks: 0,
            });
            // One window for all clients: it opens when the first client is throttled and ready.
            return h.run(job, undefined, () => (until ??= Date.now() + shared.seconds * 1000));
          }),
        );
        out.push({ clients: K, policy: system.id, perClient: runs });
        const onTime = runs.reduce(
          (a, r) =>
            a + (r.records.filter((x) => x.answered && x.totalMs <= deadlineMs).length / r.wallMs) * 1000,
          0,
        );
        ctx.progress.tick(`K=${K} ${system.id}: ${onTime.toFixed(1)} on-time inferences/s`);
      }
    }
  } finally {
    await Promise.all(hosts.map((h) => h.close()));
  }
  return out;
}
