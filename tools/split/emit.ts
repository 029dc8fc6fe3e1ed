// Why this file exists: turning one part (a block or an exit head) into a standalone ONNX model. A part file
// holds the part's nodes plus the constant subgraph they read (initializers, Constant nodes), keeps the source's
// IR version, opset imports and model-local functions, and names its input and output exactly like the source
// graph's tensors, so a runtime can chain block files by name. Types of intermediate tensors come from the probe;
// dynamic axes (the batch) are written as the source input's symbolic dimension name.

import { SplitError } from './errors.js';
import { constantClosure, type GraphIndex } from './graph.js';
import {
  int64,
  ONNX_DTYPE_NAMES,
  type OnnxModel,
  type OnnxTensor,
  type OnnxValueInfo,
} from './onnx-proto.js';
import type { Part } from './partition.js';
import { ORT_TO_ONNX_DTYPE, type ProbedTensor } from './probe.js';
import type { TensorInfo } from '../../core/manifest.js';

export class TensorTypes {
  private readonly batchName: string;
  constructor(
    private readonly g: GraphIndex,
    private readonly shapes: Map<string, ProbedTensor>,
  ) {
    this.batchName = g.input.type?.tensor_type?.shape?.dim?.[0]?.dim_param || 'batch';
  }

  /** ONNX value info for a part boundary tensor: the source's own declaration where it has one. */
  valueInfo(name: string): OnnxValueInfo {
    const declared = [this.g.input, ...this.g.outputs].find((v) => v.name === name);
    if (declared?.type?.tensor_type?.shape) return declared;
    const p = this.probed(name);
    return {
      name,
      type: {
        tensor_type: {
          elem_type: ORT_TO_ONNX_DTYPE[p.type] ?? 0,
          shape: {
            dim: p.shape.map((d, i) => (p.dynamic[i] ? { dim_param: this.batchName } : { dim_value: d })),
          },
        },
      },
    };
  }

  /** Manifest tensor info (dynamic axes as -1); only float32 boundary tensors are supported. */
  info(name: string): TensorInfo {
    if (name === this.g.input.name) {
      const dims = this.g.input.type?.tensor_type?.shape?.dim ?? [];
      return {
        name,
        shape: dims.map((d) => (int64(d.dim_value) > 0 ? int64(d.dim_value) : -1)),
        dtype: 'float32',
      };
    }
    const p = this.probed(name);
    if (p.type !== 'float32') {
      throw new SplitError(
        `tensor ${name} crosses a part boundary with dtype ${p.type}; only float32 is supported`,
      );
    }
    return { name, shape: p.shape.map((d, i) => (p.dynamic[i] ? -1 : d)), dtype: 'float32' };
  }

  /** Raw fp32 bytes of one sample: dynamic axes count as 1. */
  fp32Bytes(name: string): number {
    return this.info(name).shape.reduce((a, d) => a * (d < 0 ? 1 : d), 4);
  }

  private probed(name: string): ProbedTensor {
    const p = this.shapes.get(name);
    if (!p) throw new Error(`internal: no probed shape for ${name}`);
    return p;
  }
}

/** The manifest's tensors are float32 only; refuse a model whose input or outputs are not. */
export function checkFloat(g: GraphIndex): void {
  for (const v of [g.input, ...g.outputs]) {
    const t = v.type?.tensor_type?.elem_type;
    if (t !== undefined && t !== null && t !== 1) {
      throw new SplitError(
        `graph ${v === g.input ? 'input' : 'output'} ${v.name} has dtype ${ONNX_DTYPE_NAMES[t] ?? t}; ` +
          'only float32 is supported',
      );
    }
  }
}

/** Builds the standalone model for one part; also returns what it carries, for the cost numbers. */
export function buildPartModel(
  source: OnnxModel,
  g: GraphIndex,
  part: Part,
  types: TensorTypes,
  graphName: string,
): { model: OnnxModel; initializers: OnnxTensor[] } {
  const closure = constantClosure(g, part.nodes);
  const nodes = [...closure.nodes, ...part.nodes].sort((a, b) => g.pos.get(a)! - g.pos.get(b)!);
  const model: OnnxModel = {
    ir_version: source.ir_version ?? null,
    opset_import: source.opset_import,
    producer_name: 'spinn-ts split',
    producer_version: '1',
    functions: source.functions ?? [],
    graph: {
      name: graphName,
      node: nodes,
      initializer: closure.initializers,
      input: [types.valueInfo(part.input)],
      output: [types.valueInfo(part.output)],
    },
  };
  return { model, initializers: closure.initializers };
}
