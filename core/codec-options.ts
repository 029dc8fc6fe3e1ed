// The codec dimension of the scheduler's search space, and the only place that knows where its options come from:
// the manifest's optional `profile.codec` (per split and codec: mean encoded bytes, encode/decode ms and the
// accuracy change of the whole model, per threshold). Raw fp32 is always offered; without that section it is the
// only option.

import { codecBits, type CodecSpec } from './codec-spec.js';
import type { ModelManifest } from './manifest.js';
import { sendsPixels } from './manifest-rules.js';

/** One way to send the activation at a split. */
export interface CodecOption {
  spec: CodecSpec;
  /** Bits per transferred value (32 for fp32 and lossless). */
  bits: number;
  /** Expected payload bytes for one sample. */
  bytes: number;
  /** Accuracy change (fraction, < 0 is a loss) of the whole model without early exits. */
  accuracyDelta: number;
  /** The same per profiled threshold, when measured. */
  accuracyDeltaAt?: ReadonlyMap<number, number>;
  /** Encode (device side) and decode (server side) ms on the profiling host. */
  encodeMs: number;
  decodeMs: number;
}

/** Accuracy change of an option at a threshold (the whole-model figure where none was measured there). */
export function accuracyDeltaAt(o: CodecOption, threshold: number): number {
  return o.accuracyDeltaAt?.get(threshold) ?? o.accuracyDelta;
}

/**
 * Codec options per split value (device-only has none); fp32 first, then the profiled ones. Where the input
 * travels as pixels (split 0 of a model with preprocessing) the only option is `u8`: exact, a quarter of fp32's
 * bytes, no codec time; any profiled entries there (older manifests measured lossy input codecs) are ignored.
 */
export function codecOptionsBySplit(manifest: ModelManifest): Map<number, CodecOption[]> {
  const out = new Map<number, CodecOption[]>();
  const pixelSplits = new Set<number>();
  for (const s of manifest.splits) {
    if (sendsPixels(manifest, s.split)) {
      pixelSplits.add(s.split);
      const bytes = s.fp32Bytes / 4;
      out.set(s.split, [
        { spec: { scheme: 'u8' }, bits: 8, bytes, accuracyDelta: 0, encodeMs: 0, decodeMs: 0 },
      ]);
      continue;
    }
    out.set(s.split, [
      { spec: { scheme: 'fp32' }, bits: 32, bytes: s.fp32Bytes, accuracyDelta: 0, encodeMs: 0, decodeMs: 0 },
    ]);
  }
  const thresholds = manifest.profile?.thresholds.map((t) => t.threshold) ?? [];
  for (const e of manifest.profile?.codec?.entries ?? []) {
    const list = out.get(e.split);
    if (!list || pixelSplits.has(e.split)) continue;
    const spec: CodecSpec =
      e.scheme === 'quant'
        ? {
            scheme: 'quant',
            bits: e.bits as 4 | 6 | 8,
            ...(e.granularity ? { granularity: e.granularity } : {}),
          }
        : { scheme: 'lossless' };
    const byThreshold =
      e.accuracyChangePpByThreshold.length === thresholds.length
        ? new Map(thresholds.map((t, i) => [t, e.accuracyChangePpByThreshold[i]! / 100]))
        : undefined;
    list.push({
      spec,
      bits: codecBits(spec),
      bytes: e.meanBytes,
      accuracyDelta: e.accuracyChangePp / 100,
      ...(byThreshold ? { accuracyDeltaAt: byThreshold } : {}),
      encodeMs: e.encodeMsP50,
      decodeMs: e.decodeMsP50,
    });
  }
  return out;
}
