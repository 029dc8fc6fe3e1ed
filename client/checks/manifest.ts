// The client's check of a downloaded model manifest: a zod/mini mirror of core/manifest.ts's modelManifestSchema,
// then core's own cross-field rules (manifestProblems); see ./mini.ts.

import type { ModelManifest } from '../../core/manifest.js';
import { MANIFEST_FORMAT_VERSION, ManifestError, manifestProblems } from '../../core/manifest-rules.js';
import * as z from 'zod/mini';
import { issueLines, PARSE_OPTIONS, type Same } from './mini.js';

const int = () => z.number().check(z.int());
const nonNegativeInt = () => int().check(z.nonnegative());
const positiveInt = () => int().check(z.positive());
const nonNegative = () => z.number().check(z.nonnegative());
const unit = () => z.number().check(z.minimum(0), z.maximum(1));

const tensorInfo = z.object({
  name: z.string().check(z.minLength(1)),
  shape: z.array(int().check(z.minimum(-1))).check(z.maxLength(8)),
  dtype: z.literal('float32'),
});

const fileRef = {
  file: z.string().check(z.minLength(1)),
  sha256: z.string().check(z.regex(/^[0-9a-f]{64}$/)),
  bytes: nonNegativeInt(),
};

const blockInfo = z.object({
  index: nonNegativeInt(),
  ...fileRef,
  inputs: z.array(tensorInfo).check(z.minLength(1)),
  outputs: z.array(tensorInfo).check(z.minLength(1)),
  macs: nonNegative(),
  params: nonNegativeInt(),
});

const exitInfo = z.object({
  index: nonNegativeInt(),
  afterBlock: nonNegativeInt(),
  ...fileRef,
  input: tensorInfo,
  output: tensorInfo,
  macs: nonNegative(),
  params: nonNegativeInt(),
  macsFraction: unit(),
  final: z.boolean(),
});

const splitInfo = z.object({ split: nonNegativeInt(), tensor: tensorInfo, fp32Bytes: positiveInt() });

const thresholdProfile = z.object({ threshold: unit(), exitFraction: z.array(unit()), accuracy: unit() });

const latencyProfile = z.object({
  host: z.string(),
  runtime: z.enum(['onnxruntime-node', 'onnxruntime-web']),
  executionProvider: z.string(),
  role: z.enum(['device', 'server-estimate']),
  threads: positiveInt(),
  repeats: positiveInt(),
  blockMs: z.array(nonNegative()),
  exitMs: z.array(nonNegative()),
  measuredAt: z.string(),
});

const codecMeasurement = z.object({
  split: nonNegativeInt(),
  scheme: z.enum(['lossless', 'quant']),
  bits: positiveInt().check(z.maximum(32)),
  granularity: z.optional(z.enum(['tensor', 'channel'])),
  meanBytes: z.number().check(z.positive()),
  encodeMsP50: nonNegative(),
  encodeMsP95: nonNegative(),
  decodeMsP50: nonNegative(),
  decodeMsP95: nonNegative(),
  accuracyChangePp: z.number(),
  accuracyChangePpByThreshold: z.array(z.number()),
});

const codecProfile = z.object({
  host: z.string(),
  runtime: z.string(),
  measuredAt: z.string(),
  accuracySamples: positiveInt(),
  sizeSamples: positiveInt(),
  entries: z.array(codecMeasurement),
});

const modelProfile = z.object({
  dataset: z.object({ name: z.string(), split: z.string(), samples: positiveInt() }),
  exitAccuracy: z.array(unit()),
  thresholds: z.array(thresholdProfile).check(z.minLength(1)),
  latency: z.array(latencyProfile),
  codec: z.optional(codecProfile),
});

const size2 = () => z.tuple([positiveInt(), positiveInt()]);
const preprocessing = z.object({
  sourceSize: size2(),
  resize: z.optional(size2()),
  padding: nonNegativeInt(),
  channelOrder: z.optional(z.enum(['rgb', 'bgr'])),
  scale: z.number().check(z.positive()),
  mean: z.array(z.number()).check(z.minLength(1)),
  std: z.array(z.number().check(z.positive())).check(z.minLength(1)),
});

export const modelManifestSchema = z.object({
  formatVersion: z.literal(MANIFEST_FORMAT_VERSION),
  id: z.string().check(z.regex(/^[a-z0-9][a-z0-9._-]{0,63}$/)),
  description: z.optional(z.string()),
  input: z.extend(tensorInfo, { preprocessing: z.optional(preprocessing) }),
  classes: z.array(z.string()).check(z.minLength(1)),
  blocks: z.array(blockInfo).check(z.minLength(1)),
  exits: z.array(exitInfo).check(z.minLength(1)),
  splits: z.array(splitInfo).check(z.minLength(1)),
  source: z.optional(z.object({ ...fileRef, outputs: z.array(z.string()) })),
  profile: z.optional(modelProfile),
});

/** core's parseManifest on the mirror: the schema, then core's cross-field rules; a ManifestError otherwise. */
export function parseManifest(json: unknown): ModelManifest {
  const parsed = modelManifestSchema.safeParse(json, PARSE_OPTIONS);
  if (!parsed.success) throw new ManifestError('invalid model manifest', issueLines(parsed.error.issues));
  const problems = manifestProblems(parsed.data);
  if (problems.length) throw new ManifestError('inconsistent model manifest', problems);
  return parsed.data;
}

const typesMatch: Same<z.infer<typeof modelManifestSchema>, ModelManifest> = true;
void typesMatch;
