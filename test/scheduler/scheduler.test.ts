// The lexicographic scheduler (tolerance, ties, infeasible SLAs), SLA validation and every baseline policy, on the
// tiny model with expectations worked out by hand (latencies in comments; see estimator.test.ts for the formulas).

import { describe, expect, it } from 'vitest';
import type { Candidate } from '../../core/plan-candidates.js';
import type { Estimate } from '../../core/plan-estimator.js';
import type { SchedulerContext } from '../../core/scheduler-context.js';
import { decisionToPlan, lexicographicPick, schedule } from '../../core/scheduler.js';
import { parseSla, SlaError, type SlaInput } from '../../core/sla.js';
import { planSchema } from '../../core/wire.js';
import { q8Codec, tinyManifest } from './support/tiny-manifest.js';

const manifest = tinyManifest();
const base: SchedulerContext = {
  deviceScale: 2,
  bandwidthBps: 1000,
  rttMs: 10,
  offloadOverheadMs: 0,
  serverScale: 1,
  serverLoad: 1,
  serverAvailable: true,
};
const run = (sla: SlaInput, ctx: Partial<SchedulerContext> = {}) =>
  schedule({ manifest, sla: parseSla(sla), context: { ...base, ...ctx } });

const cand = (latencyMs: number, accuracy: number, extra: Partial<Estimate> = {}): Candidate => ({
  split: 0,
  threshold: 1,
  option: undefined,
  estimate: {
    latencyMs,
    accuracy,
    throughputRps: 1,
    deviceCostMs: 0,
    serverCostMs: 0,
    offloadProbability: 0,
    uploadBytes: 0,
    ...extra,
  },
});

describe('lexicographic order', () => {
  const pool = [cand(10, 0.9), cand(10.05, 0.95), cand(12, 0.99)];
  it('with 1 % tolerance, a plan 0.5 % slower but more accurate wins', () => {
    expect(lexicographicPick(pool, ['latency', 'accuracy'], 0.01)).toBe(1);
  });
  it('with no tolerance, the fastest wins', () => {
    expect(lexicographicPick(pool, ['latency', 'accuracy'], 0)).toBe(0);
  });
  it('accuracy first picks the most accurate whatever its latency', () => {
    expect(lexicographicPick(pool, ['accuracy', 'latency'], 0.01)).toBe(2);
  });
  it('an exact tie on the first objective is broken by the second', () => {
    expect(lexicographicPick([cand(5, 0.9), cand(5, 0.92)], ['latency', 'accuracy'], 0)).toBe(1);
  });
  it('complete ties go to the earlier candidate', () => {
    expect(lexicographicPick([cand(5, 0.9), cand(5, 0.9)], ['latency', 'accuracy'], 0)).toBe(0);
  });
  it('inside the tolerance band the strictly better earlier objective decides', () => {
    // both within 1 % on latency and equal accuracy: the faster one.
    expect(lexicographicPick([cand(10.05, 0.9), cand(10, 0.9)], ['latency', 'accuracy'], 0.01)).toBe(1);
  });
  it('throughput is maximised', () => {
    const p = [cand(1, 0.9, { throughputRps: 10 }), cand(1, 0.9, { throughputRps: 20 })];
    expect(lexicographicPick(p, ['throughput'], 0)).toBe(1);
  });
});

describe('schedule (spinn)', () => {
  it('latency first at a fast link: exit 0 always (7 ms on the device); ties go to the smallest split', () => {
    // thr 0 at split 2, 3 and 4 all cost 2·3.5 = 7 ms; server-only at thr 0 is 10 + 0.1 + 0.35 ms.
    const d = run({ priority: ['latency', 'accuracy'], tolerance: 0 }, { bandwidthBps: 1e6 });
    expect(d).toMatchObject({ split: 2, threshold: 0, feasible: true });
    expect(d.estimate.latencyMs).toBeCloseTo(7, 9);
  });

  it('an accuracy-loss limit drops low thresholds; latency then picks among the rest', () => {
    // best accuracy 0.9; ≤ 5 pp loss keeps thr 0.8 (0.88) and 1 (0.9). At 1 MB/s: server-only thr 0.8
    // = 10 + 0.1 + (0.3·0.35 + 0.7·1.15) = 11.01 ms beats every device-side plan (≥ 2·(0.3·3.5 + 0.7·11.5) ms).
    const d = run({ limits: { maxAccuracyLossPp: 5 }, priority: ['latency'] }, { bandwidthBps: 1e6 });
    expect(d).toMatchObject({ split: 0, threshold: 0.8, feasible: true });
    expect(d.estimate.latencyMs).toBeCloseTo(11.01, 9);
  });

  it('an infeasible SLA returns the least-violating plan and names the limit', () => {
    // nothing reaches 1 ms; the fastest plans (7 ms, thr 0 at splits 2/3/4) violate least; split 2 is first.
    const d = run({ limits: { maxLatencyMs: 1 } }, { bandwidthBps: 1e6 });
    expect(d.feasible).toBe(false);
    expect(d.feasibleCount).toBe(0);
    expect(d).toMatchObject({ split: 2, threshold: 0 });
    expect(d.reason).toMatch(/INFEASIBLE: cannot meet maxLatencyMs 1/);
  });

  it('with the server unreachable only device-only plans are considered', () => {
    const d = run({ priority: ['accuracy', 'latency'] }, { serverAvailable: false, bandwidthBps: 1e9 });
    expect(d).toMatchObject({ split: 4, threshold: 1 });
    expect(d.reason).toMatch(/server unreachable/);
  });

  it('the plan on the wire carries the estimate and what the scheduler saw', () => {
    const plan = planSchema.parse(decisionToPlan(run({}, { bandwidthBps: 1e6 })));
    expect(plan.seen).toMatchObject({ bandwidthBps: 1e6, deviceScale: 2, rttMs: 10 });
    expect(plan.estimate!.latencyMs).toBeGreaterThan(0);
    expect(plan.policy).toBe('spinn');
  });
});

describe('baseline policies', () => {
  it('device-only and server-only are fixed, without early exits', () => {
    expect(run({ policy: 'device-only' })).toMatchObject({ split: 4, threshold: 1 });
    expect(run({ policy: 'server-only' })).toMatchObject({ split: 0, threshold: 1 });
  });

  it('neurosurgeon: best single split for latency, threshold 1', () => {
    // at 1 kB/s: s0 111.15, s1 213.05, s2 67.8, s3 73.5, device 23 → device-only.
    expect(run({ policy: 'neurosurgeon' })).toMatchObject({ split: 4, threshold: 1 });
    // at 1 MB/s: s0 11.25 beats s2 17.85 and device 23.
    const fast = run({ policy: 'neurosurgeon' }, { bandwidthBps: 1e6 });
    expect(fast).toMatchObject({ split: 0, threshold: 1 });
    expect(fast.estimate.latencyMs).toBeCloseTo(11.25, 9);
    // it sees load: at load 20, s0 = 10 + 0.1 + 23 = 33.1 > device 23.
    expect(run({ policy: 'neurosurgeon' }, { bandwidthBps: 1e6, serverLoad: 20 })).toMatchObject({
      split: 4,
    });
  });

  it('edgent: the most accurate split + exit within the deadline, blind to load', () => {
    // exit 1 at s0 (exit 0 not run): 10 + 0.1 + (1.0 + 0.1) = 11.2 ms ≤ 15 with the load hidden, so it
    // offloads into a server at load 20.
    const d = run({ policy: 'edgent', limits: { maxLatencyMs: 15 } }, { bandwidthBps: 1e6, serverLoad: 20 });
    expect(d).toMatchObject({ split: 0, exit: 1, feasible: true });
    expect(d.context.serverLoad).toBe(1);
    expect(d.estimate.latencyMs).toBeCloseTo(11.2, 9);
    // a 9 ms deadline leaves only exit 0 on the device: 2·(1 + 2 + 0.5) = 7 ms, accuracy 0.7.
    const tight = run({ policy: 'edgent', limits: { maxLatencyMs: 9 } }, { bandwidthBps: 1e6 });
    expect(tight).toMatchObject({ split: 4, exit: 0 });
    expect(tight.estimate.accuracy).toBe(0.7);
  });

  it('a client that runs nothing (serverOnly): split 0 only, the policy keeping its thresholds and objectives', () => {
    const serverOnly = (sla: SlaInput, ctx: Partial<SchedulerContext> = {}) =>
      schedule({ manifest, sla: parseSla(sla), context: { ...base, ...ctx }, serverOnly: true });
    // At 1 kB/s Neurosurgeon stays on the device (above); a client that runs nothing cannot.
    expect(serverOnly({ policy: 'neurosurgeon' })).toMatchObject({ split: 0, threshold: 1 });
    expect(serverOnly({ policy: 'device-only' })).toMatchObject({ split: 0, threshold: 1 });
    // SPINN keeps every threshold of split 0 (early exits on the server), not only 1.
    const spinn = serverOnly({ policy: 'spinn' });
    expect(spinn.split).toBe(0);
    expect(spinn.candidates).toBe(run({ policy: 'server-only' }).candidates * 4);
    expect(serverOnly({ policy: 'spinn', priority: ['accuracy'] }).threshold).toBe(1);
    expect(
      serverOnly({ policy: 'edgent', limits: { maxLatencyMs: 15 } }, { bandwidthBps: 1e6 }),
    ).toMatchObject({
      split: 0,
      exit: 1,
    });
  });

  it('edgent keeps the accuracy floor beside the deadline', () => {
    // 9 ms leaves only exit 0 on the device (accuracy 0.7), 20 pp under the best (0.9): a 5 pp floor rules it out.
    const d = run(
      { policy: 'edgent', limits: { maxLatencyMs: 9, maxAccuracyLossPp: 5 } },
      { bandwidthBps: 1e6 },
    );
    expect(d.feasible).toBe(false);
    expect(d.reason).toMatch(/maxAccuracyLossPp 5/);
  });

  it('device-exits: every block on the device, the best threshold within the SLA', () => {
    // thr 0.8: 0.3 · 2·(1 + 2 + 0.5) + 0.7 · 23 = 18.2 ms beats thr 1 (23 ms); thr 0.5 and 0 break a 5 pp floor.
    const d = run({ policy: 'device-exits', limits: { maxAccuracyLossPp: 5 } }, { bandwidthBps: 1e6 });
    expect(d).toMatchObject({ split: 4, threshold: 0.8, candidates: 4 });
    expect(d.estimate.latencyMs).toBeCloseTo(18.2, 9);
    // a 1 pp floor leaves only threshold 1
    expect(run({ policy: 'device-exits', limits: { maxAccuracyLossPp: 1 } })).toMatchObject({
      split: 4,
      threshold: 1,
    });
  });

  it('neurosurgeon sends a lossless activation; spinn-no-exits may quantise', () => {
    const withQ8 = tinyManifest({ codec: q8Codec(0, 5) });
    const sched = (policy: 'neurosurgeon' | 'spinn-no-exits') =>
      schedule({ manifest: withQ8, sla: parseSla({ policy, priority: ['latency'] }), context: base });
    // at 1 kB/s q8 at split 0 costs 10 + 5 + 1 + server ≈ 17.5 ms < device 23 ms; fp32 there costs 111 ms.
    expect(sched('spinn-no-exits')).toMatchObject({ split: 0, bits: 8 });
    expect(sched('neurosurgeon')).toMatchObject({ split: 4, bits: 32 });
  });

  it('spinn-no-exits: every split, threshold 1', () => {
    const d = run({ policy: 'spinn-no-exits', priority: ['latency'] }, { bandwidthBps: 1e6 });
    expect(d).toMatchObject({ split: 0, threshold: 1 });
    expect(d.candidates).toBe(5); // splits 0..3 and device-only
  });
});

describe('SLA validation', () => {
  it('fills defaults', () => {
    expect(parseSla(undefined)).toEqual({
      limits: {},
      priority: ['latency', 'accuracy'],
      tolerance: 0.01,
      policy: 'spinn',
    });
  });
  it('rejects bad input with every problem named', () => {
    try {
      parseSla({ limits: { maxLatencyMs: -1, bogus: 1 }, priority: ['latency', 'latency'], policy: 'x' });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(SlaError);
      const msg = (e as Error).message;
      expect(msg).toMatch(/limits\.maxLatencyMs/);
      expect(msg).toMatch(/bogus/);
      expect(msg).toMatch(/priority lists an objective twice/);
      expect(msg).toMatch(/policy/);
    }
  });
});
