// The tensors of the Open Inference Protocol v2 (KServe / Triton REST) as this backend serves them: the request
// schema, the model's input and outputs as the protocol describes them (whole-model inference: the preprocessed image
// in, the answering exit's softmax, label, confidence and index out), reading an input tensor from JSON data
// (flattened or nested, row-major) or from the binary tensor data extension, and writing outputs back either way.
// Pure functions: every malformed request becomes an OipError with a message saying what was wrong (a 400).

import { z } from 'zod';
import type { ModelManifest } from '../core/manifest.js';
import { OffloadError, checkActivationValues } from '../core/offload-validation.js';
import { validationMessage } from '../core/public-error.js';

export class OipError extends Error {
  override readonly name = 'OipError';
}

const parameters = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]));

export const inferRequestSchema = z.object({
  id: z.string().max(256).optional(),
  parameters: parameters.optional(),
  inputs: z
    .array(
      z.object({
        name: z.string(),
        shape: z.array(z.number().int().nonnegative()).max(8),
        datatype: z.string(),
        parameters: parameters.optional(),
        data: z.unknown().optional(),
      }),
    )
    .min(1),
  outputs: z.array(z.object({ name: z.string(), parameters: parameters.optional() })).optional(),
});
export type InferRequest = z.infer<typeof inferRequestSchema>;

export interface TensorMetadata {
  name: string;
  datatype: 'FP32' | 'INT64';
  shape: number[];
}

/** What one answered image contributes to the outputs. */
export interface Answer {
  probabilities: Float32Array;
  label: number;
  confidence: number;
  exit: number;
}

type OutputName = 'probabilities' | 'label' | 'confidence' | 'exit';
const OUTPUTS: Record<
  OutputName,
  { datatype: 'FP32' | 'INT64'; perImage: (a: Answer) => ArrayLike<number> }
> = {
  probabilities: { datatype: 'FP32', perImage: (a) => a.probabilities },
  label: { datatype: 'INT64', perImage: (a) => [a.label] },
  confidence: { datatype: 'FP32', perImage: (a) => [a.confidence] },
  exit: { datatype: 'INT64', perImage: (a) => [a.exit] },
};

export function modelMetadata(m: ModelManifest) {
  const outputs: TensorMetadata[] = [
    { name: 'probabilities', datatype: 'FP32', shape: [-1, m.classes.length] },
    { name: 'label', datatype: 'INT64', shape: [-1] },
    { name: 'confidence', datatype: 'FP32', shape: [-1] },
    { name: 'exit', datatype: 'INT64', shape: [-1] },
  ];
  return {
    name: m.id,
    platform: 'onnx_onnxv1',
    inputs: [
      { name: m.input.name, datatype: 'FP32', shape: m.input.shape.map((d, i) => (i === 0 ? -1 : d)) },
    ],
    outputs,
  };
}

export function parseInferRequest(json: unknown): InferRequest {
  const r = inferRequestSchema.safeParse(json);
  if (!r.success) {
    throw new OipError(validationMessage('inference request', r.error.issues));
  }
  return r.data;
}

/** The request's `threshold` parameter (early-exit confidence; 1, the default, runs the whole model). */
export function thresholdOf(req: InferRequest): number {
  const t = req.parameters?.threshold ?? 1;
  if (typeof t !== 'number' || !(t >= 0 && t <= 1)) {
    throw new OipError(`parameter threshold must be a number in [0, 1], got ${JSON.stringify(t)}`);
  }
  return t;
}

/** Splits a binary-extension body into its JSON header and the binary tensor data after it. */
export function splitBinaryBody(
  body: Uint8Array,
  headerLength: string | undefined,
): { json: unknown; tail: Uint8Array } {
  let jsonBytes = body;
  let tail: Uint8Array = new Uint8Array(0);
  if (headerLength !== undefined) {
    const n = Number(headerLength);
    if (!Number.isInteger(n) || n < 0 || n > body.length) {
      throw new OipError(
        `Inference-Header-Content-Length ${JSON.stringify(headerLength)} is not a length within the ${body.length}-byte body`,
      );
    }
    jsonBytes = body.subarray(0, n);
    tail = body.subarray(n);
  }
  try {
    return { json: JSON.parse(new TextDecoder().decode(jsonBytes)), tail };
  } catch (e) {
    throw new OipError(`body is not valid JSON (${(e as Error).message})`);
  }
}

/** Flattens row-major JSON tensor data (nested or flat) into `out`, checking every element is a finite number. */
function flatten(data: unknown, out: Float32Array, name: string): void {
  let n = 0;
  const walk = (v: unknown, depth: number): void => {
    if (Array.isArray(v)) {
      if (depth > 8) throw new OipError(`input ${name}: data is nested deeper than its shape`);
      for (const x of v) walk(x, depth + 1);
      return;
    }
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new OipError(`input ${name}: data element ${n} is ${JSON.stringify(v)}, not a finite number`);
    }
    if (n >= out.length)
      throw new OipError(`input ${name}: data has more than the ${out.length} elements its shape holds`);
    out[n++] = v;
  };
  walk(data, 0);
  if (n !== out.length)
    throw new OipError(`input ${name}: data has ${n} elements, its shape holds ${out.length}`);
}

/**
 * The model input of a request, checked against the manifest: its one input by name, FP32, shape [N, ...] with the
 * manifest's dimensions after the batch, and N × (one image) values from JSON data or binary data.
 */
export function readInput(
  req: InferRequest,
  tail: Uint8Array,
  m: ModelManifest,
): { values: Float32Array; batch: number; perImage: number } {
  const want = m.input;
  const unknown = req.inputs.filter((i) => i.name !== want.name).map((i) => i.name);
  if (unknown.length)
    throw new OipError(`unknown input(s) ${unknown.join(', ')}; model ${m.id} takes one input, ${want.name}`);
  if (req.inputs.length !== 1) throw new OipError(`input ${want.name} is given ${req.inputs.length} times`);
  const input = req.inputs[0]!;
  if (input.datatype !== 'FP32')
    throw new OipError(`input ${want.name} has datatype ${input.datatype}; the model takes FP32`);
  const rest = want.shape.slice(1);
  const shape = input.shape;
  if (shape.length !== want.shape.length || shape[0]! < 1 || rest.some((d, i) => d !== shape[i + 1])) {
    throw new OipError(
      `input ${want.name} has shape [${shape.join(',')}]; the model takes [N,${rest.join(',')}] with N ≥ 1`,
    );
  }
  const perImage = rest.reduce((a, b) => a * b, 1);
  const values = new Float32Array(shape[0]! * perImage);
  const binarySize = input.parameters?.binary_data_size;
  if (binarySize === undefined) {
    if (input.data === undefined)
      throw new OipError(`input ${want.name} has neither data nor parameters.binary_data_size`);
    flatten(input.data, values, want.name);
  } else {
    if (binarySize !== values.byteLength || tail.length !== values.byteLength) {
      throw new OipError(
        `input ${want.name}: binary_data_size ${JSON.stringify(binarySize)} with ${tail.length} bytes after the JSON; shape [${shape.join(',')}] FP32 needs ${values.byteLength}`,
      );
    }
    new Uint8Array(values.buffer).set(tail);
  }
  // Core's rule for every activation a server runs, JSON or binary (a JSON 1e300 becomes Infinity in float32).
  try {
    checkActivationValues(values);
  } catch (e) {
    if (e instanceof OffloadError) throw new OipError(`input ${want.name}: ${e.message}`);
    throw e;
  }
  return { values, batch: shape[0]!, perImage };
}

/** The outputs to return (all when none are named), each as JSON data or as binary data. */
export function selectOutputs(req: InferRequest): { name: OutputName; binary: boolean }[] {
  const allBinary = req.parameters?.binary_data_output === true;
  const names = Object.keys(OUTPUTS) as OutputName[];
  if (!req.outputs) return names.map((name) => ({ name, binary: allBinary }));
  return req.outputs.map((o) => {
    if (!(names as string[]).includes(o.name))
      throw new OipError(`unknown output ${o.name}; the model has ${names.join(', ')}`);
    const b = o.parameters?.binary_data;
    return { name: o.name as OutputName, binary: typeof b === 'boolean' ? b : allBinary };
  });
}

/** The response body: JSON alone, or JSON followed by binary output data (and the JSON's length to say so). */
export function encodeResponse(
  head: { model_name: string; id: string; parameters?: Record<string, number | string | boolean> },
  outputs: { name: OutputName; binary: boolean }[],
  answers: readonly Answer[],
): { body: Uint8Array; headerLength: number | null } {
  const parts: Uint8Array[] = [];
  const json = outputs.map(({ name, binary }) => {
    const { datatype, perImage } = OUTPUTS[name];
    const flat = answers.flatMap((a) => Array.from(perImage(a)));
    const shape =
      name === 'probabilities'
        ? [answers.length, flat.length / Math.max(1, answers.length)]
        : [answers.length];
    if (!binary) return { name, shape, datatype, data: flat };
    const bytes = datatype === 'FP32' ? new Float32Array(flat) : BigInt64Array.from(flat, (x) => BigInt(x));
    parts.push(new Uint8Array(bytes.buffer));
    return { name, shape, datatype, parameters: { binary_data_size: bytes.byteLength } };
  });
  const header = new TextEncoder().encode(JSON.stringify({ ...head, outputs: json }));
  if (!parts.length) return { body: header, headerLength: null };
  const body = new Uint8Array(header.length + parts.reduce((a, p) => a + p.length, 0));
  body.set(header);
  let at = header.length;
  for (const p of parts) {
    body.set(p, at);
    at += p.length;
  }
  return { body, headerLength: header.length };
}
