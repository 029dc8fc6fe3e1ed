// The codec dimension of the scheduler's search space, and the only place that knows where its options come from:
// the manifest's optional `profile.codec` (per split and codec: mean encoded bytes, encode/decode ms and the
// accuracy change of the whole model, per threshold). Raw fp32 is always offered; without that section it is the
// only option.

import { codecBits, type CodecSpec } from './codec-spec.js';
import type { ModelManifest } from './manifest.js';

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

/** Codec options per split value (device-only has none); fp32 first, then the profiled ones. */
export function codecOptionsBySplit(manifest: ModelManifest): Map<number, CodecOption[]> {
  const out = new Map<number, CodecOption[]>();
  for (const s of manifest.splits) {
    out.set(s.split, [
      { spec: { scheme: 'fp32' }, bits: 32, bytes: s.fp32Bytes, accuracyDelta: 0, encodeMs: 0, decodeMs: 0 },
    ]);
  }
  const thresholds = manifest.profile?.thresholds.map((t) => t.threshold) ?? [];
  for (const e of manifest.profile?.codec?.entries ?? []) {
    const list = out.get(e.split);
    if (!list) continue;
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
