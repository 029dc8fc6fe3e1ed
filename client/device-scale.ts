// How much slower (or faster) this device runs than the offline profile says — SPINN's T_real / T_offline — so
// the edge's scheduler can rescale the profile. Measured from the executor's per-block and per-exit times against
// the manifest's onnxruntime-web device profile, smoothed over requests.

import type { ModelManifest } from '../core/manifest.js';
import type { ExecutorStep } from '../core/progressive-executor.js';

/** The manifest's latency profile for a device running onnxruntime-web, if it has one. */
export function deviceProfile(manifest: ModelManifest) {
  return manifest.profile?.latency.find((l) => l.runtime === 'onnxruntime-web' && l.role === 'device');
}

/** One request's device work: wall time measured and the offline profile's time for the same blocks and exits. */
export interface DeviceSample {
  measuredMs: number;
  profiledMs: number;
}

/**
 * What these steps took against what the profile says they take, or undefined without a profile or without
 * profiled time.
 *
 * @param wallMs wall-clock time of the whole phase the steps ran in. Preferred over the sum of the steps' own
 *   times: a throttled or contended device (a CFS quota, a busy phone) stalls anywhere — between blocks, in the
 *   event loop — and only the phase's wall time sees those stalls; the request pays for them all the same.
 */
export function measureDeviceSample(
  steps: readonly ExecutorStep[],
  manifest: ModelManifest,
  wallMs?: number,
): DeviceSample | undefined {
  const profile = deviceProfile(manifest);
  if (!profile) return undefined;
  let measured = 0;
  let expected = 0;
  for (const s of steps) {
    const ms = s.kind === 'block' ? profile.blockMs[s.index] : profile.exitMs[s.index];
    if (ms === undefined) continue;
    measured += s.ms;
    expected += ms;
  }
  if (wallMs !== undefined && wallMs > measured) measured = wallMs;
  return expected > 0 && measured > 0 ? { measuredMs: measured, profiledMs: expected } : undefined;
}

/**
 * SPINN's device scale factor over the last `window` requests: their measured time over their profiled time (a
 * ratio of sums, so the estimate prices expected latency — what the scheduler predicts — and long requests weigh
 * as much as they cost). A throttled core is lumpy: the same first exit takes 2 ms when it fits in the CFS quota
 * left and 50 ms when it does not, and the deep requests carry most of the time; a median (tried first) and then a
 * mean of per-request ratios without the largest both priced device plans 20–30 % below their real mean on a
 * 10 % core. One request stalled far beyond the others (a garbage collection, a descheduled process) is capped at
 * `stallFactor` times the current estimate, so it moves the estimate without swinging the plan.
 */
export class DeviceScaleEstimator {
  private readonly samples: DeviceSample[] = [];

  constructor(
    private readonly window = 16,
    private readonly stallFactor = 5,
  ) {}

  /** Adds one request's measurement; returns the current estimate. */
  add(sample: DeviceSample | undefined): number | undefined {
    if (sample && sample.measuredMs > 0 && sample.profiledMs > 0 && Number.isFinite(sample.measuredMs)) {
      const now = this.samples.length >= 3 ? this.current : undefined;
      const cap = now !== undefined ? this.stallFactor * now * sample.profiledMs : Infinity;
      this.samples.push({ measuredMs: Math.min(sample.measuredMs, cap), profiledMs: sample.profiledMs });
      if (this.samples.length > this.window) this.samples.shift();
    }
    return this.current;
  }

  get current(): number | undefined {
    if (this.samples.length === 0) return undefined;
    let measured = 0;
    let profiled = 0;
    for (const s of this.samples) {
      measured += s.measuredMs;
      profiled += s.profiledMs;
    }
    return measured / profiled;
  }
}
