// Why this file exists: reading and writing ONNX ModelProto bytes. We load the official schema
// (tools/split/onnx.proto, copied verbatim from the onnx Python package, Apache-2.0) with protobufjs at run time
// instead of generating static code: the .proto stays the single, diffable source of truth, there is no codegen
// step to keep in sync, and parsing 800 lines of schema costs a few milliseconds per run.
// Decoded messages keep protobufjs' own representation (int64 as Long, bytes as Uint8Array) and are re-encoded
// as they are, so tensors, attributes and metadata round-trip bit for bit; we read only the few fields we need
// through the narrow interfaces below.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { SplitError } from './errors.js';

/** int64 fields decode as Long (protobufjs bundles `long`); plain numbers when we build messages ourselves. */
export type Int64 = number | { toNumber(): number };

export function int64(v: Int64 | null | undefined): number {
  if (v === null || v === undefined) return 0;
  return typeof v === 'number' ? v : v.toNumber();
}

export interface OnnxDim {
  dim_value?: Int64 | null;
  dim_param?: string | null;
}
export interface OnnxTypeProto {
  tensor_type?: { elem_type?: number | null; shape?: { dim?: OnnxDim[] | null } | null } | null;
}
export interface OnnxValueInfo {
  name: string;
  type?: OnnxTypeProto | null;
  doc_string?: string | null;
}
export interface OnnxAttribute {
  name: string;
  type?: number | null;
  g?: unknown;
  graphs?: unknown[] | null;
}
export interface OnnxNode {
  name?: string | null;
  op_type: string;
  domain?: string | null;
  input: string[];
  output: string[];
  attribute?: OnnxAttribute[] | null;
}
export interface OnnxTensor {
  name: string;
  dims?: Int64[] | null;
  data_type?: number | null;
  data_location?: number | null;
}
export interface OnnxGraph {
  name?: string | null;
  node: OnnxNode[];
  initializer: OnnxTensor[];
  sparse_initializer?: unknown[] | null;
  input: OnnxValueInfo[];
  output: OnnxValueInfo[];
  value_info?: OnnxValueInfo[] | null;
}
export interface OnnxOpset {
  domain?: string | null;
  version?: Int64 | null;
}
export interface OnnxModel {
  ir_version?: Int64 | null;
  opset_import: OnnxOpset[];
  producer_name?: string | null;
  producer_version?: string | null;
  graph?: OnnxGraph | null;
  functions?: unknown[] | null;
  metadata_props?: { key: string; value: string }[] | null;
}

/** TensorProto.DataType values we name in messages (the full enum lives in onnx.proto). */
export const ONNX_DTYPE_NAMES: Record<number, string> = {
  1: 'float32',
  2: 'uint8',
  3: 'int8',
  4: 'uint16',
  5: 'int16',
  6: 'int32',
  7: 'int64',
  8: 'string',
  9: 'bool',
  10: 'float16',
  11: 'float64',
  12: 'uint32',
  13: 'uint64',
  16: 'bfloat16',
};
export const ONNX_FLOAT = 1;

let modelType: protobuf.Type | undefined;

function modelProto(): protobuf.Type {
  if (!modelType) {
    const protoPath = fileURLToPath(new URL('./onnx.proto', import.meta.url));
    // keepCase: field names stay as in the ONNX spec (raw_data, elem_type), which is what every ONNX doc uses.
    const root = protobuf.parse(readFileSync(protoPath, 'utf8'), { keepCase: true }).root;
    modelType = root.lookupType('onnx.ModelProto');
  }
  return modelType;
}

/** Decodes ONNX bytes; anything that is not a ModelProto with a graph is a SplitError naming `source`. */
export function decodeModel(bytes: Uint8Array, source: string): OnnxModel {
  let decoded: unknown;
  try {
    decoded = modelProto().decode(bytes);
  } catch (err) {
    throw new SplitError(
      `${source} is not an ONNX model (protobuf decode failed: ${(err as Error).message})`,
    );
  }
  const model = decoded as OnnxModel;
  // Random bytes occasionally decode as a valid-looking message; a real model always has an IR version and a graph.
  if (
    !model.graph ||
    !model.ir_version ||
    !Array.isArray(model.graph.node) ||
    model.graph.node.length === 0
  ) {
    throw new SplitError(`${source} is not an ONNX model (no ir_version or no graph nodes)`);
  }
  return model;
}

/** Encodes a model built from decoded messages and/or plain objects with ONNX field names. */
export function encodeModel(model: OnnxModel): Uint8Array {
  const type = modelProto();
  const msg = type.fromObject(model as unknown as Record<string, unknown>);
  return type.encode(msg).finish();
}
