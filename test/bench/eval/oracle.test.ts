// The oracle of experiment 6 prices what SPINN's measured latencies measure: whole requests on the wall clock.
// Synthetic records on the real manifest, so every expected value can be worked out by hand.

import { describe, expect, it } from 'vitest';
import type { RequestRecord } from '../../../bench/eval/device-protocol.js';
import type { BandwidthPoint } from '../../../bench/eval/experiments/bandwidth.js';
import { oracleFor } from '../../../bench/eval/experiments/oracle.js';
import { loadManifest, type ImageExits } from '../../../bench/eval/reference-exits.js';
import type { Policy } from '../../../core/sla.js';
import { summarize } from '../../../bench/eval/stats.js';
import { costModel } from '../../../core/plan-estimator.js';

const manifest = loadManifest();
const nExits = manifest.exits.length;
const easy: ImageExits = { confidence: Array(nExits).fill(0.99), correct: Array(nExits).fill(true) };
const hard: ImageExits = { confidence: Array(nExits).fill(0.1), correct: Array(nExits).fill(true) };
const exits = new Map<number, ImageExits>(Array.from({ length: 10 }, (_, i) => [i, i === 9 ? hard : easy]));

function rec(image: number, r: Partial<RequestRecord>): RequestRecord {
  return {
    image,
    at: 0,
    answered: true,
    correct: true,
    exit: 0,
    decidedBy: 'device',
    split: 28,
    threshold: 0.85,
    totalMs: 0,
    deviceMs: 0,
    serverMs: null,
    queueMs: null,
    roundTripMs: null,
    bytesSent: 0,
    ...r,
  };
}

function point(spinn: RequestRecord[], serverOnly: RequestRecord[]): BandwidthPoint {
  const m = (policy: Policy, records: RequestRecord[]) => ({
    policy,
    summary: summarize(records, 1000),
    records,
    link: 'test',
  });
  return {
    mbps: 8, // 1000 bytes per ms
    rttMs: 20,
    results: [m('spinn', spinn), m('server-only', serverOnly), m('device-only', spinn)],
  };
}

// SPINN answered the nine easy images at the first exit and the hard one at the last, all on the device, at ten
// times the profiled speed; half of every request's wall time is outside onnxruntime's compute (exit checks,
// copies, stalls).
const cm = costModel(manifest);
const profiledToExit = (e: number) => cm.devBlocks[cm.exitAfter[e]! + 1]! + cm.devExits[e + 1]!;
const easyMs = 10 * profiledToExit(0);
const hardMs = 10 * profiledToExit(nExits - 1);
const spinn = Array.from({ length: 10 }, (_, i) =>
  i === 9
    ? rec(i, { exit: nExits - 1, totalMs: hardMs, deviceMs: hardMs / 2 })
    : rec(i, { exit: 0, totalMs: easyMs, deviceMs: easyMs / 2 }),
);
const serverOnlyAt = (fixedMs: number) =>
  Array.from({ length: 10 }, (_, i) =>
    rec(i, {
      decidedBy: 'server',
      split: 0,
      exit: 0,
      serverMs: 3,
      queueMs: 1,
      bytesSent: 4000,
      // The round trip leaves out the client's own encoding and HTTP work; the total does not.
      roundTripMs: 3 + 1 + 4 + fixedMs / 2,
      totalMs: 3 + 1 + 4 + fixedMs,
    }),
  );

describe('oracle (experiment 6)', () => {
  it('prices device answers at the wall time SPINN measured, so the same decisions cost the same', () => {
    const o = oracleFor(manifest, point(spinn, serverOnlyAt(1000)), exits, 0.5);
    expect(o.spinnMeanMs).toBeCloseTo((9 * easyMs + hardMs) / 10, 9);
    expect(o.deviceScale).toBeCloseTo(10, 9);
    // Offloading never pays at a 1 s fixed cost, and every image exits where SPINN's did: equal means. Priced at
    // compute time alone (deviceMs) it would have been half, a bound below what any plan can do on this client.
    expect(o.oracleMeanMs).toBeCloseTo(o.spinnMeanMs, 6);
    expect(o.spinnPlansPricedMs).toBeCloseTo(o.spinnMeanMs, 6);
    expect(o.fixedOffloadMs).toBeCloseTo(1000, 6);
  });

  it("counts the client's work outside the round trip in the offload's fixed cost, and offloads the hard sample", () => {
    const o = oracleFor(manifest, point(spinn, serverOnlyAt(30)), exits, 0.5);
    expect(o.fixedOffloadMs).toBeCloseTo(30, 6);
    // The hard image costs ~130 ms on the device and ~37 offloaded (30 fixed + its bytes + 3 ms of server); the
    // easy ones stay where SPINN answered them.
    expect(hardMs).toBeGreaterThan(100);
    expect(o.oracleMeanMs).toBeLessThan((9 * easyMs + 45) / 10);
    expect(o.oracleMeanMs).toBeGreaterThan((9 * easyMs + 30) / 10);
    // SPINN's own plan (all on the device) priced the same way costs what SPINN measured: the gap is foresight.
    expect(o.spinnPlansPricedMs).toBeCloseTo(o.spinnMeanMs, 6);
  });
});
