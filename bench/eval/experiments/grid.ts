// Experiment 1 (issue 16, item 2): every system at every grid point — device class × RTT × bandwidth, per model
// and device model — in interleaved repetitions (rotating order, each cell a fresh client on the same images as
// the other systems of its repetition), with the oracle's two probes among them. The same runner measures the
// server-cost-priority SLA at one point (experiment 3). Records only; analysis.ts turns them into numbers.

import { costModel } from '../../../core/plan-estimator.js';
import type { DeviceHost } from '../device-host.js';
import type { RequestRecord } from '../device-protocol.js';
import { runCell, startWarmDevice, systemId, type EvalContext } from '../eval-context.js';
import { cellImages, gridPoints, pointLabel, rotatedOrder, type GridPoint } from '../grid.js';
import { HEDGED, NO_HEDGE, PROBES, type ProbeId, type SlaKind, type System } from '../policies.js';

export interface PointRecords {
  point: GridPoint;
  /** Index of the point in its run (it chooses the point's images). */
  index: number;
  slaKind: SlaKind;
  /** Per system id (and probe): records of every repetition, `[rep][i]` aligned by image across systems. */
  records: Record<string, RequestRecord[][]>;
  /** How the device was throttled. */
  device: string;
  /** Wall time the point took, s (where the run's time goes). */
  seconds: number;
}

export interface PointPlan {
  point: GridPoint;
  index: number;
  systems: System[];
  reps: number;
  perCell: number;
  slaKind: SlaKind;
}

/** Runs one point: `reps` rounds, each running every system and probe once, in rotating order. */
export async function runPoint(ctx: EvalContext, host: DeviceHost, p: PointPlan): Promise<PointRecords> {
  const { cfg } = ctx;
  const nBlocks = costModel(ctx.calibrations.get(p.point.model)!.manifest).nBlocks;
  ctx.setLink(p.point);
  const t0 = performance.now();
  const cells: Array<System | ProbeId> = [...p.systems, ...PROBES];
  const records: Record<string, RequestRecord[][]> = {};
  for (let rep = 0; rep < p.reps; rep++) {
    const images = cellImages(p.index, rep, p.reps, p.perCell, cfg.warmup);
    for (const system of rotatedOrder(cells, rep, p.reps)) {
      const probe = typeof system === 'string';
      const got = await runCell(ctx, host, {
        system,
        slaKind: p.slaKind,
        warmupImages: probe ? images.warmup.slice(0, 1) : images.warmup,
        images: probe ? images.measured.slice(0, cfg.probePerCell) : images.measured,
        nBlocks,
      });
      (records[systemId(system)] ??= []).push(got);
      ctx.progress.tick(`${pointLabel(p.point)} rep ${rep + 1} ${systemId(system)}`);
    }
  }
  const seconds = Math.round((performance.now() - t0) / 1000);
  return { point: p.point, index: p.index, slaKind: p.slaKind, records, device: host.describe(), seconds };
}

/** The grid's point plans in run order, with the systems each point runs. */
export function gridPlans(ctx: EvalContext): PointPlan[] {
  const { cfg } = ctx;
  let index = 0;
  return cfg.grid.flatMap((spec, s) =>
    gridPoints([spec]).map((point) => ({
      point,
      index: index++,
      systems: cfg.noHedgeOn.includes(s) ? [...HEDGED, ...NO_HEDGE] : HEDGED,
      reps: cfg.reps,
      perCell: cfg.perCell,
      slaKind: 'latency' as const,
    })),
  );
}

/** Cells a plan runs (for the progress bar). */
export const cellsOf = (p: PointPlan) => p.reps * (p.systems.length + PROBES.length);

/** Runs plans in order, one device process per (model, device model), its class set per point. */
export async function runPlans(ctx: EvalContext, plans: PointPlan[]): Promise<PointRecords[]> {
  const out: PointRecords[] = [];
  let host: DeviceHost | undefined;
  try {
    for (const p of plans) {
      const { model, deviceModel, cpu } = p.point;
      if (!host || host.o.model !== model || host.o.deviceModel !== deviceModel) {
        await host?.close();
        host = await startWarmDevice(ctx, { model, deviceModel, cpu });
      }
      host.setCpu(cpu);
      out.push(await runPoint(ctx, host, p));
    }
  } finally {
    await host?.close();
  }
  return out;
}

export async function gridExperiment(ctx: EvalContext): Promise<PointRecords[]> {
  const plans = gridPlans(ctx);
  ctx.progress.start(
    '1/4 grid',
    plans.reduce((a, p) => a + cellsOf(p), 0),
  );
  return runPlans(ctx, plans);
}

/** Experiment 3: every system under the server-cost-priority SLA at one point. */
export async function serverCostExperiment(ctx: EvalContext): Promise<PointRecords[]> {
  const { point, reps, perCell } = ctx.cfg.serverCost;
  const plan: PointPlan = {
    point,
    index: 1000, // images apart from the grid's
    systems: HEDGED,
    reps,
    perCell,
    slaKind: 'serverCost',
  };
  ctx.progress.start('3/4 server-cost SLA', cellsOf(plan));
  return runPlans(ctx, [plan]);
}
