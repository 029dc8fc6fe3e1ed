// How much slower (or faster) this device runs than the offline profile says — SPINN's T_real / T_offline — so
// the edge's scheduler can rescale the profile. Measured from the executor's per-block and per-exit times against
// the manifest's onnxruntime-web device profile, smoothed over requests.

import type { ModelManifest } from '../core/manifest.js';
import type { ExecutorStep } from '../core/progressive-executor.js';

/** The manifest's latency profile for a device running onnxruntime-web, if it has one. */
export function deviceProfile(manifest: ModelManifest) {
  return manifest.profile?.latency.find((l) => l.runtime === 'onnxruntime-web' && l.role === 'device');
}

/**
 * Measured over profiled time for these steps, or undefined without a profile or without profiled time.
 *
 * @param wallMs wall-clock time of the whole phase the steps ran in. Preferred over the sum of the steps' own
 *   times: a throttled or contended device (a CFS quota, a busy phone) stalls anywhere — between blocks, in the
 *   event loop — and only the phase's wall time sees those stalls; the request pays for them all the same.
 */
export function measureDeviceScale(
  steps: readonly ExecutorStep[],
  manifest: ModelManifest,
  wallMs?: number,
): number | undefined {
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
  return expected > 0 && measured > 0 ? measured / expected : undefined;
}

/**
 * The mean of the last `window` measurements without the largest. On a throttled or contended device single
 * requests stall for a garbage collection or a scheduler quantum and read 5–10× too slow, and one such sample must
 * not swing the plan; but the scheduler predicts *expected* latency, and a median (tried before) hid the device's
 * everyday slowness — on a 10 % core it priced device plans 20–30 % below what they cost and kept the device busy
 * where offloading was faster.
 */
export class DeviceScaleEstimator {
  private readonly samples: number[] = [];

  constructor(private readonly window = 9) {}

  /** Adds one request's measurement; returns the current estimate. */
  add(sample: number | undefined): number | undefined {
    if (sample !== undefined && Number.isFinite(sample) && sample > 0) {
      this.samples.push(sample);
      if (this.samples.length > this.window) this.samples.shift();
    }
    return this.current;
  }

  get current(): number | undefined {
    if (this.samples.length === 0) return undefined;
    const kept = [...this.samples].sort((a, b) => a - b);
    if (kept.length >= 3) kept.pop();
    return kept.reduce((s, x) => s + x, 0) / kept.length;
  }
}
