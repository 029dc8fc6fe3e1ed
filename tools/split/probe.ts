// Why this file exists: tensor shapes. ONNX files rarely carry shapes for intermediate tensors, and we need them
// for the block files' input/output types, the split sizes and the MAC counts. Rather than re-implement shape
// inference for every op, we let onnxruntime do it: a "probe" copy of the model lists every node output as a
// graph output, and we run it on zeros. We run it at batch 1 and batch 2: dimensions that change between the
// two runs are dynamic (the batch axis, wherever it is), the others are static. Zeros are enough because no
// CNN op's output shape depends on the input values.

import * as ort from 'onnxruntime-node';
import { SplitError } from './errors.js';
import { encodeModel, int64, type OnnxModel } from './onnx-proto.js';

export interface ProbedTensor {
  /** Shape at batch 1. */
  shape: number[];
  /** Which axes changed between batch 1 and batch 2. */
  dynamic: boolean[];
  /** onnxruntime type name (float32, int64, ...). */
  type: string;
}

/** Maps onnxruntime's tensor type names to ONNX TensorProto.DataType. */
export const ORT_TO_ONNX_DTYPE: Record<string, number> = {
  float32: 1,
  uint8: 2,
  int8: 3,
  uint16: 4,
  int16: 5,
  int32: 6,
  int64: 7,
  string: 8,
  bool: 9,
  float16: 10,
  float64: 11,
  uint32: 12,
  uint64: 13,
};

export async function probeShapes(model: OnnxModel): Promise<Map<string, ProbedTensor>> {
  const graph = model.graph!;
  const names = new Set(graph.output.map((o) => o.name));
  const extra = graph.node.flatMap((n) => n.output).filter((o) => o !== '' && !names.has(o));
  // Outputs without a type are accepted: onnxruntime infers them.
  const probe: OnnxModel = {
    ...model,
    graph: { ...graph, output: [...graph.output, ...extra.map((name) => ({ name }))] },
  };
  const session = await ort.InferenceSession.create(encodeModel(probe), {
    graphOptimizationLevel: 'disabled',
  });
  try {
    const input = graph.input.find((i) => !graph.initializer.some((t) => t.name === i.name))!;
    const dims = input.type?.tensor_type?.shape?.dim ?? [];
    const elem = input.type?.tensor_type?.elem_type;
    if (elem !== 1)
      throw new SplitError(`graph input ${input.name} has dtype ${elem}; only float32 inputs are supported`);
    const symbolic = dims.map((d) => !(int64(d.dim_value) > 0));
    if (symbolic.slice(1).some(Boolean)) {
      throw new SplitError(`graph input ${input.name} has a symbolic dimension other than the first (batch)`);
    }
    const run = async (batch: number) => {
      const shape = dims.map((d, i) => (symbolic[i] ? batch : int64(d.dim_value)));
      const size = shape.reduce((a, b) => a * b, 1);
      const feeds = { [input.name]: new ort.Tensor('float32', new Float32Array(size), shape) };
      return session.run(feeds);
    };
    const one = await run(1);
    // A model with a fixed batch size cannot run at batch 2; then nothing is dynamic.
    const two = symbolic[0] ? await run(2) : one;
    const out = new Map<string, ProbedTensor>();
    for (const name of session.outputNames) {
      const a = one[name]!;
      const b = two[name]!;
      const shape = [...a.dims];
      out.set(name, { shape, dynamic: shape.map((d, i) => b.dims[i] !== d), type: a.type });
    }
    return out;
  } finally {
    await session.release();
  }
}
