// The model artifact contract (`models/<id>/manifest.json`): written by the splitter and the profiler in tools/,
// read by the client, the worker, the backend and the benchmarks. Plain JSON so any runtime can fetch and parse it;
// this file holds its types and a validating parser (a manifest is input from the network for clients); the rules
// and lookups that need no zod are core/manifest-rules.ts (re-exported here).
// Field-by-field documentation lives in tools/MANIFEST.md.

import { z } from 'zod';
import { MANIFEST_FORMAT_VERSION, ManifestError, manifestProblems } from './manifest-rules.js';

export {
  MANIFEST_FORMAT_VERSION,
  ManifestError,
  manifestProblems,
  exitsBefore,
  sendsPixels,
  splitInfo,
} from './manifest-rules.js';

const dims = z.array(z.number().int().min(-1)).max(8);

export const tensorInfoSchema = z.object({
  /** Tensor name in the ONNX graph (and in the block file's inputs/outputs). */
  name: z.string().min(1),
  /** Shape with the batch dimension first; -1 marks a dynamic dimension. */
  shape: dims,
  dtype: z.literal('float32'),
});
export type TensorInfo = z.infer<typeof tensorInfoSchema>;

const fileRef = {
  /** Path of the ONNX file relative to the manifest. */
  file: z.string().min(1),
  /** Hex SHA-256 of the file, so clients can cache blocks and detect stale copies. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  bytes: z.number().int().nonnegative(),
};

export const blockInfoSchema = z.object({
  index: z.number().int().nonnegative(),
  ...fileRef,
  inputs: z.array(tensorInfoSchema).min(1),
  outputs: z.array(tensorInfoSchema).min(1),
  /** Multiply-accumulates for one sample (batch 1). */
  macs: z.number().nonnegative(),
  params: z.number().int().nonnegative(),
});
export type BlockInfo = z.infer<typeof blockInfoSchema>;

export const exitInfoSchema = z.object({
  index: z.number().int().nonnegative(),
  /** 0-based index of the block whose output feeds this exit head. */
  afterBlock: z.number().int().nonnegative(),
  ...fileRef,
  input: tensorInfoSchema,
  /** Logits output of the head. */
  output: tensorInfoSchema,
  macs: z.number().nonnegative(),
  params: z.number().int().nonnegative(),
  /** MACs of blocks 0..afterBlock plus this head, over the MACs of all blocks plus the final head. */
  macsFraction: z.number().min(0).max(1),
  /** True for the model's own final classifier (always the last exit). */
  final: z.boolean(),
});
export type ExitInfo = z.infer<typeof exitInfoSchema>;

export const splitInfoSchema = z.object({
  /** Number of blocks the device runs before offloading (0 = the raw input is sent: server-only). */
  split: z.number().int().nonnegative(),
  tensor: tensorInfoSchema,
  /** Bytes of the tensor for one sample as raw fp32. */
  fp32Bytes: z.number().int().positive(),
});
export type SplitInfo = z.infer<typeof splitInfoSchema>;

export const thresholdProfileSchema = z.object({
  threshold: z.number().min(0).max(1),
  /** Share of test samples leaving at each exit (sums to 1; the final exit takes everything left). */
  exitFraction: z.array(z.number().min(0).max(1)),
  /** Top-1 accuracy of the whole progressive model at this threshold. */
  accuracy: z.number().min(0).max(1),
});
export type ThresholdProfile = z.infer<typeof thresholdProfileSchema>;

export const latencyProfileSchema = z.object({
  /** Free-form label of the host that measured it (CPU model, cores). */
  host: z.string(),
  runtime: z.enum(['onnxruntime-node', 'onnxruntime-web']),
  executionProvider: z.string(),
  /** What these numbers stand for in scheduling: the device's own blocks or an estimate of the server. */
  role: z.enum(['device', 'server-estimate']),
  threads: z.number().int().positive(),
  repeats: z.number().int().positive(),
  /** Median ms per block at batch 1, indexed like `blocks`. */
  blockMs: z.array(z.number().nonnegative()),
  /** Median ms per exit head at batch 1, indexed like `exits`. */
  exitMs: z.array(z.number().nonnegative()),
  measuredAt: z.string(),
});
export type LatencyProfile = z.infer<typeof latencyProfileSchema>;

/**
 * One (split, codec) measurement of the codec profiler (`npm run model:profile`). Field names match what the
 * scheduler's reader (core/codec-options.ts) looks for: `split`, `scheme`, `bits`, `meanBytes`, `accuracyChangePp`.
 */
export const codecMeasurementSchema = z.object({
  split: z.number().int().nonnegative(),
  scheme: z.enum(['lossless', 'quant']),
  /** Bits per transferred value: 4/6/8 for quant, 32 for lossless. */
  bits: z.number().int().positive().max(32),
  /** quant only: per-tensor or per-channel scales. */
  granularity: z.enum(['tensor', 'channel']).optional(),
  /** Mean encoded payload bytes for one sample (header not included). */
  meanBytes: z.number().positive(),
  /** Encode and decode ms for one sample on the profiling host (median and p95). */
  encodeMsP50: z.number().nonnegative(),
  encodeMsP95: z.number().nonnegative(),
  decodeMsP50: z.number().nonnegative(),
  decodeMsP95: z.number().nonnegative(),
  /** Top-1 accuracy of the whole model (threshold 1: final exit) with the codec minus without, in pp (< 0: loss). */
  accuracyChangePp: z.number(),
  /** The same per threshold of `profile.thresholds` (same order): exits before the split see exact values. */
  accuracyChangePpByThreshold: z.array(z.number()),
});
export type CodecMeasurement = z.infer<typeof codecMeasurementSchema>;

export const codecProfileSchema = z.object({
  host: z.string(),
  runtime: z.string(),
  measuredAt: z.string(),
  /** Test samples the accuracy change was measured on, and samples the bytes and timings were averaged over. */
  accuracySamples: z.number().int().positive(),
  sizeSamples: z.number().int().positive(),
  entries: z.array(codecMeasurementSchema),
});
export type CodecProfile = z.infer<typeof codecProfileSchema>;

export const modelProfileSchema = z.object({
  dataset: z.object({ name: z.string(), split: z.string(), samples: z.number().int().positive() }),
  /** Accuracy of each exit on its own (every sample forced through it). */
  exitAccuracy: z.array(z.number().min(0).max(1)),
  thresholds: z.array(thresholdProfileSchema).min(1),
  latency: z.array(latencyProfileSchema),
  /** Per split and codec: encoded bytes, encode/decode time and accuracy change (optional). */
  codec: codecProfileSchema.optional(),
});
export type ModelProfile = z.infer<typeof modelProfileSchema>;

export const preprocessingSchema = z.object({
  /** Height and width of the images the model was trained from (a raw grey `Uint8Array` input has this size). */
  sourceSize: z.tuple([z.number().int().positive(), z.number().int().positive()]),
  /**
   * Bilinear resize (half-pixel centres, antialiased when shrinking; core/image-resize.ts) of any input image to
   * this [h, w] before padding. Absent: images are resized to `sourceSize` (a no-op for images of that size).
   */
  resize: z.tuple([z.number().int().positive(), z.number().int().positive()]).optional(),
  /** Zero pixels added on each side (in raw pixel space, before normalisation). */
  padding: z.number().int().nonnegative(),
  /** Order of a 3-channel input's channels (default rgb). Grey images are replicated to every channel. */
  channelOrder: z.enum(['rgb', 'bgr']).optional(),
  /** Raw pixel value multiplied by this first (1/255 for 8-bit images). */
  scale: z.number().positive(),
  /** Per channel (or one value for every channel): (pixel × scale − mean) / std. */
  mean: z.array(z.number()).min(1),
  std: z.array(z.number().positive()).min(1),
});
export type Preprocessing = z.infer<typeof preprocessingSchema>;

export const modelManifestSchema = z.object({
  formatVersion: z.literal(MANIFEST_FORMAT_VERSION),
  id: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/),
  description: z.string().optional(),
  input: tensorInfoSchema.extend({ preprocessing: preprocessingSchema.optional() }),
  classes: z.array(z.string()).min(1),
  blocks: z.array(blockInfoSchema).min(1),
  exits: z.array(exitInfoSchema).min(1),
  splits: z.array(splitInfoSchema).min(1),
  /** The single ONNX model the blocks were cut from. */
  source: z.object({ ...fileRef, outputs: z.array(z.string()) }).optional(),
  profile: modelProfileSchema.optional(),
});
export type ModelManifest = z.infer<typeof modelManifestSchema>;

/** Validates parsed JSON against the schema and the cross-field rules no schema states. */
export function parseManifest(json: unknown): ModelManifest {
  const parsed = modelManifestSchema.safeParse(json);
  if (!parsed.success) {
    throw new ManifestError(
      'invalid model manifest',
      parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`),
    );
  }
  const problems = manifestProblems(parsed.data);
  if (problems.length) throw new ManifestError('inconsistent model manifest', problems);
  return parsed.data;
}
