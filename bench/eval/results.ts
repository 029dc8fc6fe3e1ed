// The evaluation's results as one JSON document (written to bench/results/eval-<mode>.json and read back by the
// figure and report writers), plus the headline numbers of the final JSON line.

import type { BandwidthPoint } from './experiments/bandwidth.js';
import type { TraceResult } from './experiments/dynamic-trace.js';
import type { OraclePoint } from './experiments/oracle.js';
import type { ResiliencePoint } from './experiments/resilience.js';
import type { LoadPoint } from './experiments/server-load.js';
import type { SlaPoint } from './experiments/sla-sweep.js';
import type { EvalConfig } from './config.js';
import { BASELINES } from './policies.js';

export interface DeviceClass {
  cpuFraction: number;
  /** How it was produced (cgroup settings). */
  label: string;
  /** Full model (threshold 1) on the device, median ms, and the server's compute for it, median ms. */
  deviceFullMs: number;
  serverFullMs: number;
  /** deviceFullMs / serverFullMs, measured in this run. */
  ratio: number;
}

export interface EvalResults {
  startedAt: string;
  durationS: number;
  cfg: EvalConfig;
  host: string;
  /** How each condition was produced. */
  emulation: { bandwidth: string; delayLossOutage: string; device: string };
  deviceClasses: DeviceClass[];
  bandwidth: BandwidthPoint[];
  serverLoad: LoadPoint[];
  sla: SlaPoint[];
  trace: TraceResult | undefined;
  resilience: ResiliencePoint[];
  oracle: OraclePoint[];
}

export interface Headline {
  bandwidthsMbps: number[];
  spinnVsBestBaseline: number[];
  spinnVsOracle: number[];
  resilienceAnsweredShare: number;
}

const r3 = (x: number) => Math.round(x * 1000) / 1000;

export function headline(r: EvalResults): Headline {
  const spinnVsBestBaseline = r.bandwidth.map((p) => {
    const spinn = p.results.find((m) => m.policy === 'spinn')!.summary.meanMs;
    const best = Math.min(
      ...p.results.filter((m) => BASELINES.includes(m.policy)).map((m) => m.summary.meanMs),
    );
    return r3(spinn / best);
  });
  const spinnRuns = r.resilience.flatMap((p) => p.results.filter((m) => m.policy === 'spinn'));
  const n = spinnRuns.reduce((s, m) => s + m.summary.n, 0);
  const answered = spinnRuns.reduce((s, m) => s + m.summary.n * m.summary.answeredShare, 0);
  return {
    bandwidthsMbps: r.bandwidth.map((p) => p.mbps),
    spinnVsBestBaseline,
    spinnVsOracle: r.oracle.map((o) => r3(o.spinnMeanMs / o.oracleMeanMs)),
    resilienceAnsweredShare: n ? r3(answered / n) : NaN,
  };
}

/** The results without per-request records (except the trace's rows), small enough to keep. */
export function compact(r: EvalResults): unknown {
  const strip = <T extends { results: Array<{ records: unknown }> }>(p: T) => ({
    ...p,
    results: p.results.map(({ records: _r, ...rest }) => rest),
  });
  return {
    ...r,
    bandwidth: r.bandwidth.map(strip),
    serverLoad: r.serverLoad.map(strip),
    sla: r.sla.map(strip),
    resilience: r.resilience.map(strip),
  };
}
