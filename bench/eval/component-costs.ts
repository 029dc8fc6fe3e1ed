// Turns the two probes of a grid point (the whole model on the device at threshold 1, and split 0 at threshold 1)
// into the component costs the pre-registered oracle is priced with (oracle.ts). The probes run fixed plans, not
// a policy, so no policy's decisions feed the bound it is compared with.

import { costModel, offlineServerMs } from '../../core/plan-estimator.js';
import type { ModelManifest } from '../../core/manifest.js';
import type { RequestRecord } from './device-protocol.js';
import type { ComponentCosts } from './oracle.js';
import { mean } from './stats.js';

/** Per-index mean of the step times the device probe recorded (each request ran every block and exit once). */
function perIndexMean(rows: ReadonlyArray<readonly number[]>, n: number): number[] {
  return Array.from({ length: n }, (_, i) => mean(rows.map((r) => r[i]!).filter(Number.isFinite)));
}

export function componentCosts(
  manifest: ModelManifest,
  deviceProbe: readonly RequestRecord[],
  offloadProbe: readonly RequestRecord[],
  mbps: number,
): ComponentCosts {
  const m = costModel(manifest);
  const dev = deviceProbe.filter((r) => r.answered && r.stepMs);
  if (!dev.length) throw new Error('component costs: the device probe answered no request');
  const deviceBlockMs = perIndexMean(
    dev.map((r) => r.stepMs!.block),
    m.nBlocks,
  );
  const deviceExitMs = perIndexMean(
    dev.map((r) => r.stepMs!.exit),
    m.exitAfter.length,
  );
  const stepTotal = (r: RequestRecord) =>
    r.stepMs!.block.reduce((a, b) => a + b, 0) + r.stepMs!.exit.reduce((a, b) => a + b, 0);
  const deviceOverheadMs = Math.max(0, mean(dev.map((r) => r.totalMs - stepTotal(r))));

  const bytesPerMs = (mbps * 1000) / 8;
  const srv = offloadProbe.filter((r) => r.decidedBy === 'server' && r.serverMs !== null);
  const srvBlocks = Array.from({ length: m.nBlocks }, (_, i) => m.srvBlocks[i + 1]! - m.srvBlocks[i]!);
  const srvExits = Array.from({ length: m.exitAfter.length }, (_, i) => m.srvExits[i + 1]! - m.srvExits[i]!);
  if (!srv.length) {
    // The server never answered the probe (it cannot be reached): offloading cannot win, price it out.
    return {
      deviceBlockMs,
      deviceExitMs,
      deviceOverheadMs,
      serverBlockMs: srvBlocks,
      serverExitMs: srvExits,
      fixedOffloadMs: Infinity,
      bytesPerMs,
    };
  }
  // The server's measured time (compute + queue) over what its profile says for the same work.
  const measured = srv.reduce((a, r) => a + r.serverMs! + (r.queueMs ?? 0), 0);
  const profiled = srv.reduce((a, r) => a + offlineServerMs(m, 0, r.serverBlocksRun ?? m.nBlocks, r.exit), 0);
  const scale = profiled > 0 ? measured / profiled : 1;
  const fixedOffloadMs = mean(
    srv.map((r) => r.totalMs - r.deviceMs - r.serverMs! - (r.queueMs ?? 0) - r.bytesSent / bytesPerMs),
  );
  return {
    deviceBlockMs,
    deviceExitMs,
    deviceOverheadMs,
    serverBlockMs: srvBlocks.map((x) => x * scale),
    serverExitMs: srvExits.map((x) => x * scale),
    fixedOffloadMs,
    bytesPerMs,
  };
}
