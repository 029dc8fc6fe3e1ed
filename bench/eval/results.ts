// The evaluation's results: the raw records of a run (saved to the untracked bench/out/eval-<mode>-records.json,
// from which `--from` recomputes everything), the analysed numbers (bench/results/eval-<mode>.json) and the
// headline of the final JSON line.

import type { ResilienceResult, PointResult, SharedResult } from './analysis.js';
import type { EvalConfig } from './config.js';
import type { PointRecords } from './experiments/grid.js';
import type { ResilienceRun } from './experiments/resilience.js';
import type { SharedRun } from './experiments/shared-server.js';
import type { GridPoint } from './grid.js';
import { SPINN } from './policies.js';
import { mean } from './stats.js';

export interface RunRecords {
  startedAt: string;
  durationS: number;
  /** Wall time of each experiment, s (calibration and stack start-up included in `setup`). */
  phaseSeconds: Record<string, number>;
  cfg: EvalConfig;
  host: string;
  /** How each condition was produced. */
  emulation: { bandwidth: string; delayLossOutage: string };
  /** Per model: which images calibrated the scheduler and which were measured. */
  calibration: Record<string, string>;
  grid: PointRecords[];
  shared: SharedRun[];
  serverCost: PointRecords[];
  resilience: ResilienceRun[];
}

export interface Analysed {
  grid: PointResult[];
  shared: SharedResult[];
  serverCost: PointResult[];
  resilience: ResilienceResult[];
}

export interface Headline {
  mode: string;
  grid: GridPoint[];
  spinnVsBestMean: number[];
  spinnVsBestP95: number[];
  spinnVsBestMeanCi: Array<[number, number]>;
  spinnVsBestP95Ci: Array<[number, number]>;
  /** The best SPINN/best-baseline mean ratio among points where SPINN's split lies strictly inside; null if none. */
  midSplitWin: number | null;
  clients: number[];
  throughputVsServerOnly: number[];
  serverComputeVsServerOnly: number[];
  spinnVsOracle: number[];
  /** SPINN's share of requests answered within the SLA over the failure scenarios (not 'none'). */
  resilienceOnTimeShare: number;
  resilienceOnTimeShareBySystem: Record<string, number>;
  durationS: number;
}

const r3 = (x: number) => Math.round(x * 1000) / 1000;
const r3ci = (c: [number, number]): [number, number] => [r3(c[0]), r3(c[1])];

function perK(shared: SharedResult[], f: (s: SharedResult, base: SharedResult) => number): number[] {
  const ks = [...new Set(shared.map((s) => s.clients))];
  return ks.map((k) => {
    const spinn = shared.find((s) => s.clients === k && s.policy === SPINN);
    const base = shared.find((s) => s.clients === k && s.policy === 'server-only');
    return spinn && base ? r3(f(spinn, base)) : NaN;
  });
}

export function headline(run: RunRecords, a: Analysed): Headline {
  const inside = a.grid.filter((p) => p.spinnSplitInside).map((p) => p.spinnVsBestMean);
  const failures = a.resilience.filter((r) => r.scenario !== 'none');
  const bySystem: Record<string, number> = {};
  for (const s of new Set(failures.map((r) => r.system))) {
    const rs = failures.filter((r) => r.system === s);
    bySystem[s] = r3(mean(rs.map((r) => r.onTimeShare)));
  }
  return {
    mode: run.cfg.mode,
    grid: a.grid.map((p) => p.point),
    spinnVsBestMean: a.grid.map((p) => r3(p.spinnVsBestMean)),
    spinnVsBestP95: a.grid.map((p) => r3(p.spinnVsBestP95)),
    spinnVsBestMeanCi: a.grid.map((p) => r3ci(p.spinnVsBestMeanCi)),
    spinnVsBestP95Ci: a.grid.map((p) => r3ci(p.spinnVsBestP95Ci)),
    midSplitWin: inside.length ? r3(Math.min(...inside)) : null,
    clients: [...new Set(a.shared.map((s) => s.clients))],
    throughputVsServerOnly: perK(a.shared, (s, b) => s.onTimeRps / b.onTimeRps),
    serverComputeVsServerOnly: perK(a.shared, (s, b) => s.serverMsPerAnswer / b.serverMsPerAnswer),
    spinnVsOracle: a.grid.map((p) => r3(p.spinnVsOracle ?? NaN)),
    resilienceOnTimeShare: bySystem[SPINN] ?? NaN,
    resilienceOnTimeShareBySystem: bySystem,
    durationS: run.durationS,
  };
}
