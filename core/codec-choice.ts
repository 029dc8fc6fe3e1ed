// Which codec an offload should use: SPINN's two rules as pure functions over the manifest's codec profile.
// Accuracy-aware: the smallest bit-width whose measured accuracy loss at the split (and threshold) stays within
// the request's budget, else the lossless scheme. Cost-aware: compress only when encode + decode time is less
// than the transfer time the smaller payload saves at the current bandwidth, else send raw fp32.

import type { CodecSpec } from './codec-spec.js';
import type { CodecMeasurement, ModelManifest } from './manifest.js';
import { sendsPixels } from './manifest-rules.js';

/** The accuracy budget the client uses when neither the caller nor the plan says otherwise, in pp. */
export const DEFAULT_ACCURACY_BUDGET_PP = 0.3;

/**
 * Accuracy loss (pp, > 0 is worse) of a measurement at a threshold: the worse of the two profiled thresholds around
 * it (the grid is coarse; being conservative costs a few bytes, the other way costs accuracy). Without a threshold,
 * or ≥ 1, the whole-model figure.
 */
export function lossAt(m: CodecMeasurement, thresholds: readonly number[], threshold?: number): number {
  if (threshold === undefined || threshold >= 1 || thresholds.length !== m.accuracyChangePpByThreshold.length)
    return 0 - m.accuracyChangePp;
  let below = -1;
  let above = -1;
  thresholds.forEach((t, i) => {
    if (t <= threshold && (below < 0 || t > thresholds[below]!)) below = i;
    if (t >= threshold && (above < 0 || t < thresholds[above]!)) above = i;
  });
  const at = [below, above].filter((i) => i >= 0).map((i) => 0 - m.accuracyChangePpByThreshold[i]!);
  return at.length ? Math.max(...at) : 0 - m.accuracyChangePp;
}

/** Accuracy-aware choice among one split's measurements: smallest quant bits within budget, else lossless. */
export function accuracyAwareChoice(
  entries: readonly CodecMeasurement[],
  thresholds: readonly number[],
  budgetPp: number,
  threshold?: number,
): CodecMeasurement | undefined {
  const quant = entries
    .filter((e) => e.scheme === 'quant')
    .sort((a, b) => a.bits - b.bits || a.meanBytes - b.meanBytes);
  return (
    quant.find((e) => lossAt(e, thresholds, threshold) <= budgetPp) ??
    entries.find((e) => e.scheme === 'lossless')
  );
}

export interface TransferCost {
  fp32Bytes: number;
  encodedBytes: number;
  encodeMs: number;
  decodeMs: number;
  /** Uplink bandwidth in bytes per second. */
  bandwidthBps: number;
}

/** Transfer ms a smaller payload saves over fp32 at a bandwidth. */
export const transferSavedMs = (
  c: Pick<TransferCost, 'fp32Bytes' | 'encodedBytes' | 'bandwidthBps'>,
): number => ((c.fp32Bytes - c.encodedBytes) / c.bandwidthBps) * 1000;

/** The paper's rule: compressing pays when encode + decode is faster than the transfer time it saves. */
export function worthCompressing(c: TransferCost): boolean {
  return c.bandwidthBps > 0 && c.encodeMs + c.decodeMs < transferSavedMs(c);
}

export interface CodecChoiceInput {
  manifest: ModelManifest;
  split: number;
  /** Early-exit threshold of the request; omitted means the whole-model (final-exit) accuracy change. */
  threshold?: number;
  /** Largest accuracy loss the request accepts, pp (default DEFAULT_ACCURACY_BUDGET_PP). */
  accuracyBudgetPp?: number;
  /** Current uplink bandwidth, bytes per second; unknown means the accuracy-aware choice stands. */
  bandwidthBps?: number;
  /** Device slowdown vs. the profiling host (multiplies encode time; decode runs on the server). */
  deviceScale?: number;
  serverScale?: number;
}

export interface CodecChoice {
  codec: CodecSpec;
  /** The profile entry behind it (absent for fp32). */
  measurement?: CodecMeasurement;
  reason: string;
}

export function specOfMeasurement(m: CodecMeasurement): CodecSpec {
  return m.scheme === 'quant'
    ? {
        scheme: 'quant',
        bits: m.bits as 4 | 6 | 8,
        ...(m.granularity ? { granularity: m.granularity } : {}),
      }
    : { scheme: 'lossless' };
}

/** Both rules together: the codec an offload at `split` should use. */
export function chooseCodec(i: CodecChoiceInput): CodecChoice {
  const profile = i.manifest.profile;
  const split = i.manifest.splits.find((s) => s.split === i.split);
  if (!split) return { codec: { scheme: 'fp32' }, reason: `no split point ${i.split}: nothing to encode` };
  if (sendsPixels(i.manifest, i.split))
    return {
      codec: { scheme: 'u8' },
      reason: 'the input travels as its uint8 pixels (exact, no codec time)',
    };
  const entries = profile?.codec?.entries.filter((e) => e.split === i.split) ?? [];
  if (!profile || !entries.length)
    return { codec: { scheme: 'fp32' }, reason: 'no codec profile for this split' };
  const budget = i.accuracyBudgetPp ?? DEFAULT_ACCURACY_BUDGET_PP;
  const thresholds = profile.thresholds.map((t) => t.threshold);
  const chosen = accuracyAwareChoice(entries, thresholds, budget, i.threshold);
  const lossless = entries.find((e) => e.scheme === 'lossless');
  const candidates = [chosen, lossless].filter((m, k, a): m is CodecMeasurement => !!m && a.indexOf(m) === k);
  const what = (m: CodecMeasurement) =>
    m.scheme === 'quant'
      ? `q${m.bits} (loss ${lossAt(m, thresholds, i.threshold).toFixed(2)} pp ≤ ${budget} pp)`
      : 'lossless';
  if (i.bandwidthBps === undefined) {
    const m = candidates[0];
    return m
      ? { codec: specOfMeasurement(m), measurement: m, reason: `${what(m)}; bandwidth unknown` }
      : { codec: { scheme: 'fp32' }, reason: 'no codec within budget' };
  }
  for (const m of candidates) {
    const cost = {
      fp32Bytes: split.fp32Bytes,
      encodedBytes: m.meanBytes,
      encodeMs: m.encodeMsP50 * (i.deviceScale ?? 1),
      decodeMs: m.decodeMsP50 * (i.serverScale ?? 1),
      bandwidthBps: i.bandwidthBps,
    };
    if (worthCompressing(cost))
      return {
        codec: specOfMeasurement(m),
        measurement: m,
        reason: `${what(m)}; ${(cost.encodeMs + cost.decodeMs).toFixed(2)} ms codec < ${transferSavedMs(cost).toFixed(2)} ms saved`,
      };
  }
  return {
    codec: { scheme: 'fp32' },
    reason: 'encode + decode would cost more than the transfer time saved',
  };
}
