// Experiment 6: an oracle lower bound for experiment 1. Per sample it knows in advance where the sample would exit
// at a threshold and picks the best split for that sample alone (device-only when it exits on the device anyway),
// with the threshold chosen among those meeting the same accuracy floor. Its costs are this run's own measurements
// at that bandwidth: the device's real speed (SPINN's own device-decided requests, else the device-only run), the
// server's real speed, the fixed cost of an offload (server-only runs: total − server − queue − bytes / bandwidth),
// and the profiled encoded size of the activation at each split (smallest codec within the client's accuracy budget).
// It is a lower bound on decisions, not on noise or on the client's own work: it prices every sample at this run's
// mean costs, measured the way the latencies it is compared with are measured — whole requests, wall clock. The
// device's speed is request wall time per profiled ms (the executor's exit checks, tensor copies and the throttled
// core's stalls are in every request a plan answers on the device, whatever the plan), not onnxruntime's compute
// time alone; the offload's fixed cost likewise includes the client's encoding and HTTP work. Priced at medians, or
// at compute time only, it would compare a bound that leaves out costs every request pays with a measured mean.

import { codecOptionsBySplit, accuracyDeltaAt } from '../../../core/codec-options.js';
import { DEFAULT_ACCURACY_BUDGET_PP } from '../../../core/codec-choice.js';
import type { ModelManifest } from '../../../core/manifest.js';
import { costModel } from '../../../core/plan-estimator.js';
import type { BandwidthPoint } from './bandwidth.js';
import { exitAt, type ImageExits } from '../reference-exits.js';
import { mean } from '../stats.js';

export interface OraclePoint {
  mbps: number;
  oracleMeanMs: number;
  threshold: number;
  spinnMeanMs: number;
  /**
   * SPINN's own plans (each request's split and threshold) priced the oracle's way: what SPINN's decisions cost
   * without foresight, so spinn / oracle splits into execution (spinnMeanMs / this) and foresight (this / oracle).
   */
  spinnPlansPricedMs: number;
  /** Measured components the oracle used. */
  deviceScale: number;
  serverScale: number;
  fixedOffloadMs: number;
}

export function oracleFor(
  manifest: ModelManifest,
  point: BandwidthPoint,
  exits: Map<number, ImageExits>,
  accuracyLossPp: number,
): OraclePoint {
  const m = costModel(manifest);
  const n = m.nBlocks;
  const of = (p: string) => point.results.find((r) => r.policy === p)!;
  const dev = of('device-only').records.filter((r) => r.answered);
  const srv = of('server-only').records.filter((r) => r.serverMs !== null && r.decidedBy === 'server');
  const devFull = m.devBlocks[n]! + m.devExits[m.exitAfter.length]! - m.devExits[m.exitAfter.length - 1]!;
  // The device's speed drifts between runs on this shared machine, so where SPINN decided enough requests on the
  // device the oracle takes the device speed SPINN itself had (its requests' wall time over the profile's time for
  // the same blocks and exits); otherwise the device-only run's.
  const spinnOnDevice = of('spinn').records.filter(
    (r) => r.answered && r.decidedBy === 'device' && r.exit >= 0,
  );
  const profiledToExit = (e: number) => m.devBlocks[m.exitAfter[e]! + 1]! + m.devExits[e + 1]!;
  const deviceScale =
    spinnOnDevice.length >= of('spinn').records.length / 3
      ? mean(spinnOnDevice.map((r) => r.totalMs)) / mean(spinnOnDevice.map((r) => profiledToExit(r.exit)))
      : mean(dev.map((r) => r.totalMs)) / devFull;
  const srvFull = m.srvBlocks[n]! + m.srvExits[m.exitAfter.length]! - m.srvExits[m.exitAfter.length - 1]!;
  const serverScale = srv.length ? mean(srv.map((r) => r.serverMs!)) / srvFull : 1;
  const bytesPerMs = (point.mbps * 1000) / 8;
  const fixedOffloadMs = srv.length
    ? Math.max(
        0,
        mean(
          srv.map((r) => r.totalMs - r.deviceMs - r.serverMs! - (r.queueMs ?? 0) - r.bytesSent / bytesPerMs),
        ),
      )
    : point.rttMs;
  const options = codecOptionsBySplit(manifest);
  const spinn = of('spinn').records.filter((r) => r.answered);
  const images = spinn.map((r) => r.image);

  const bytesAt = (split: number, threshold: number) =>
    Math.min(
      ...(options.get(split) ?? [])
        .filter((o) => -accuracyDeltaAt(o, threshold) * 100 <= DEFAULT_ACCURACY_BUDGET_PP)
        .map((o) => o.bytes),
    );
  // Device-only up to exit e (its exits before it run too: they are how the device knows to go on).
  const onDevice = (e: number) => deviceScale * (m.devBlocks[m.exitAfter[e]! + 1]! + m.devExits[e + 1]!);
  // Offloaded at `split` (≤ the exit's block: no exit before it fired), answered by the server at exit e.
  const offloaded = (split: number, e: number, threshold: number) => {
    const last = m.exitAfter[e]!;
    let nd = 0;
    while (nd < m.exitAfter.length && m.exitAfter[nd]! < split) nd++;
    const device = deviceScale * (m.devBlocks[split]! + m.devExits[nd]!);
    const server =
      serverScale * (m.srvBlocks[last + 1]! - m.srvBlocks[split]! + m.srvExits[e + 1]! - m.srvExits[nd]!);
    return device + fixedOffloadMs + bytesAt(split, threshold) / bytesPerMs + server;
  };
  /** One sample under one plan, priced like the oracle (it exits where the reference says it does). */
  const priced = (image: number, split: number, threshold: number) => {
    const e = exitAt(exits.get(image)!, threshold);
    return split > m.exitAfter[e]! ? onDevice(e) : offloaded(split, e, threshold);
  };

  let best = { meanMs: Infinity, threshold: 1 };
  for (const t of m.thresholds) {
    if ((m.bestAccuracy - t.accuracy) * 100 > accuracyLossPp + 1e-9) continue;
    const costs = images.map((img) => {
      const e = exitAt(exits.get(img)!, t.threshold);
      let c = onDevice(e);
      for (const { split } of manifest.splits) {
        if (split <= m.exitAfter[e]!) c = Math.min(c, offloaded(split, e, t.threshold));
      }
      return c;
    });
    const meanMs = mean(costs);
    if (meanMs < best.meanMs) best = { meanMs, threshold: t.threshold };
  }
  return {
    mbps: point.mbps,
    oracleMeanMs: best.meanMs,
    threshold: best.threshold,
    spinnMeanMs: mean(spinn.map((r) => r.totalMs)),
    spinnPlansPricedMs: mean(spinn.map((r) => priced(r.image, r.split, r.threshold))),
    deviceScale,
    serverScale,
    fixedOffloadMs,
  };
}
