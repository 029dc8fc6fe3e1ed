// The plan keeper's round-trip measurement: a refresh answered while the device computes is read only between
// blocks, so the time spent inside blocks is the device being busy, not the link.

import { describe, expect, it } from 'vitest';
import { PlanKeeper } from '../../client/plan-keeper.js';
import { PlanResolver } from '../../client/plan-resolver.js';
import { costModel, offlineServerMs } from '../../core/plan-estimator.js';
import { parseSla } from '../../core/sla.js';
import { readManifest } from './support/reference.js';

const manifest = readManifest();

function keeper(clock: { now: number; busy: number }, busyMs?: () => number) {
  const fetchFn: typeof fetch = async () => {
    // 40 ms pass before the answer is read; 30 of them were spent running blocks.
    clock.now += 40;
    clock.busy += 30;
    return Response.json({ plan: { split: 5, threshold: 0.9, codec: { scheme: 'fp32' } } });
  };
  return new PlanKeeper({
    sla: parseSla({ policy: 'spinn' }),
    resolver: new PlanResolver(undefined, true),
    edgeUrl: 'http://edge.test',
    modelId: manifest.id,
    fetch: fetchFn,
    refreshEvery: 10,
    deviceDrift: 0.3,
    timeoutMs: 1000,
    now: () => clock.now,
    ...(busyMs ? { busyMs } : {}),
  });
}

describe('PlanKeeper', () => {
  it('measures a plan request without the device compute it overlapped', async () => {
    const clock = { now: 0, busy: 0 };
    const k = keeper(clock, () => clock.busy);
    await k.requestPlan(manifest, 10);
    expect(k.plan?.split).toBe(5);
    expect(k.profiler.rttMs).toBeCloseTo(10, 9);
  });

  it('without a busy clock it takes the whole round trip', async () => {
    const clock = { now: 0, busy: 0 };
    const k = keeper(clock);
    await k.requestPlan(manifest, 10);
    expect(k.profiler.rttMs).toBeCloseTo(40, 9);
  });

  it('expects an offload answered after L + O + bytes / B + the server time of the remaining blocks', async () => {
    const clock = { now: 0, busy: 0 };
    const k = keeper(clock, () => clock.busy);
    expect(k.expectedAnswerMs(manifest, 5, 1000)).toBeUndefined(); // nothing measured yet
    await k.requestPlan(manifest, 10); // L = 10
    // Offloads of 1, 4 and 9 kB on a line of 20 ms + 0.002 ms/B: O = 20 − L = 10, B = 500 kB/s.
    k.profiler.observeOffload(1000, 22);
    k.profiler.observeOffload(4000, 28);
    k.profiler.observeOffload(9000, 38);
    const cm = costModel(manifest);
    const server = offlineServerMs(cm, 5, manifest.blocks.length - 5, null);
    expect(k.expectedAnswerMs(manifest, 5, 4000)).toBeCloseTo(10 + 10 + 4000 * 0.002 + server, 9);
  });
});
