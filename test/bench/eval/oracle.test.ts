// The pre-registered oracle (bench/eval/oracle.ts) on the tiny hand-checkable model: per-sample pricing of every
// kind of plan, the per-sample choice of split, the threshold limited by the accuracy floor, SPINN's own plans
// priced the same way, and the component costs read from the two probes.

import { describe, expect, it } from 'vitest';
import { componentCosts } from '../../../bench/eval/component-costs.js';
import type { RequestRecord } from '../../../bench/eval/device-protocol.js';
import {
  exitAt,
  ORACLE_DEFINITION,
  ORACLE_VERSION,
  oracle,
  pricedPlans,
  samplePlanCost,
  type ComponentCosts,
  type ImageExits,
} from '../../../bench/eval/oracle.js';
import { shouldExit } from '../../../core/exit-policy.js';
import { costModel } from '../../../core/plan-estimator.js';
import { tinyManifest } from '../../scheduler/support/tiny-manifest.js';

// tiny: blocks 0..3, exit 0 after block 1, exit 1 (final) after block 3; splits 0..3 carry 100, 200, 50, 50 bytes.
const manifest = tinyManifest();
const model = costModel(manifest);
const rule = (c: number, t: number) => shouldExit(c, t, false);
const costs: ComponentCosts = {
  deviceBlockMs: [1, 2, 3, 4],
  deviceExitMs: [0.5, 1],
  deviceOverheadMs: 2,
  serverBlockMs: [0.1, 0.2, 0.3, 0.4],
  serverExitMs: [0.05, 0.1],
  fixedOffloadMs: 10,
  bytesPerMs: 10,
};
const bytes = [100, 200, 50, 50];
const cost = (e: number, split: number, c = costs) =>
  samplePlanCost(c, model.exitAfter, model.nBlocks, e, split, bytes[split] ?? 0);
const easy: ImageExits = { confidence: [0.99, 0.99], correct: [true, true] };
const hard: ImageExits = { confidence: [0.1, 0.9], correct: [false, true] };

describe('the definition', () => {
  it('is registered once, with its version', () => {
    expect(ORACLE_VERSION).toMatch(/^v2 \(registered 2026-11-29/);
    expect(ORACLE_DEFINITION).toMatch(/independently of\s+any policy/);
  });
});

describe('samplePlanCost', () => {
  it('prices a sample answered on the device: its blocks and exits up to the exit, plus the overhead', () => {
    expect(cost(0, 4)).toBeCloseTo(1 + 2 + 0.5 + 2, 12);
    expect(cost(1, 4)).toBeCloseTo(10 + 1.5 + 2, 12);
    // a split after the exit's block is the same device answer
    expect(cost(0, 2)).toBeCloseTo(5.5, 12);
  });
  it('prices an offload: device part, fixed cost, bytes at the link rate, server part up to the exit', () => {
    // split 0, exit 0: server blocks 0-1 and exit 0 (0.35) + 10 + 100 B / 10 B/ms
    expect(cost(0, 0)).toBeCloseTo(0.35 + 10 + 10, 12);
    // split 2, exit 1: device blocks 0-1 + exit 0 (3.5), server blocks 2-3 + exit 1 (0.8), 10 + 5
    expect(cost(1, 2)).toBeCloseTo(3.5 + 0.8 + 10 + 5, 12);
  });
});

describe('oracle', () => {
  const input = (c: ComponentCosts, samples: ImageExits[]) => ({
    model,
    costs: c,
    samples,
    accuracyLossPp: 5,
    bytesAt: (split: number) => bytes[split]!,
    shouldExit: rule,
  });

  it('keeps every sample on the device when offloads are dear', () => {
    const o = oracle(input(costs, [easy, hard]));
    // floor 5 pp under 0.9 admits thresholds 0.8 and 1; at 0.8 easy exits at 0 (5.5), hard at 1 (13.5)
    expect(o.threshold).toBe(0.8);
    expect(o.meanMs).toBeCloseTo((5.5 + 13.5) / 2, 12);
    expect(o.splits).toEqual({ 4: 2 });
  });

  it('chooses the split per sample', () => {
    // free offloads: the hard sample goes to the server at split 0 (1.15 + 0.1); the easy one exits on the
    // device (5.5) unless split 0 is cheaper for it too (0.35 + 0.1)
    const cheap = { ...costs, fixedOffloadMs: 0, bytesPerMs: 1000 };
    const o = oracle(input(cheap, [easy, hard]));
    expect(o.meanMs).toBeCloseTo((0.45 + 1.25) / 2, 12);
    expect(o.splits).toEqual({ 0: 2 });
    // without the device overhead and with a 5 ms fixed cost the easy sample stays on the device (3.5 against
    // 0.35 + 5 + 1) and the hard one leaves at split 0 (1.15 + 5 + 1 = 7.15 against 11.5 on the device)
    const mixed = { ...costs, deviceOverheadMs: 0, fixedOffloadMs: 5, bytesPerMs: 100 };
    const m = oracle(input(mixed, [easy, hard]));
    expect(m.splits).toEqual({ 4: 1, 0: 1 });
    expect(m.meanMs).toBeCloseTo((3.5 + 7.15) / 2, 12);
  });

  it('never uses a threshold below the accuracy floor', () => {
    // thresholds 0 and 0.5 would let the hard sample exit early; a 1 pp floor admits only threshold 1
    const o = oracle({ ...input(costs, [easy, hard]), accuracyLossPp: 1 });
    expect(o.threshold).toBe(1);
    expect(o.meanMs).toBeCloseTo(13.5, 12);
  });

  it('prices the plans a system ran the same way', () => {
    const i = input(costs, [easy, hard]);
    const plans = [
      { split: 4, threshold: 0.8 },
      { split: 2, threshold: 0.8 },
    ];
    expect(pricedPlans(i, plans)).toBeCloseTo((5.5 + 19.3) / 2, 12);
    expect(exitAt(hard, 0.8, rule)).toBe(1);
  });
});

describe('componentCosts', () => {
  const rec = (r: Partial<RequestRecord>): RequestRecord => ({
    image: 1,
    at: 0,
    answered: true,
    correct: true,
    exit: 1,
    decidedBy: 'device',
    split: 4,
    threshold: 1,
    totalMs: 0,
    deviceMs: 0,
    serverMs: null,
    queueMs: null,
    roundTripMs: null,
    bytesSent: 0,
    ...r,
  });

  it('reads device steps, the overhead, the fixed offload cost and the server scale from the probes', () => {
    const dev = [
      rec({ totalMs: 15, stepMs: { block: [1, 2, 3, 4], exit: [0.5, 1] } }),
      rec({ totalMs: 19, stepMs: { block: [3, 2, 3, 4], exit: [0.5, 3] } }),
    ];
    // split 0 at threshold 1: the server ran all 4 blocks and both exits (profile 1.15 ms); it took 2.3 + 0.0 queue
    const srv = [
      rec({
        decidedBy: 'server',
        split: 0,
        totalMs: 30,
        serverMs: 2.3,
        queueMs: 0,
        serverBlocksRun: 4,
        bytesSent: 1000,
      }),
    ];
    const c = componentCosts(manifest, dev, srv, 8); // 8 Mbit/s = 1000 bytes per ms
    expect(c.deviceBlockMs).toEqual([2, 2, 3, 4]);
    expect(c.deviceExitMs).toEqual([0.5, 2]);
    expect(c.deviceOverheadMs).toBeCloseTo((15 - 11.5 + 19 - 15.5) / 2, 12);
    expect(c.bytesPerMs).toBe(1000);
    expect(c.fixedOffloadMs).toBeCloseTo(30 - 2.3 - 1, 12);
    expect(
      c.serverBlockMs.reduce((a, b) => a + b, 0) + c.serverExitMs.reduce((a, b) => a + b, 0),
    ).toBeCloseTo(2.3, 9);
  });

  it('prices offloads out when the server never answered the probe', () => {
    const dev = [rec({ totalMs: 15, stepMs: { block: [1, 2, 3, 4], exit: [0.5, 1] } })];
    expect(componentCosts(manifest, dev, [rec({ decidedBy: 'device-fallback' })], 8).fixedOffloadMs).toBe(
      Infinity,
    );
  });
});
