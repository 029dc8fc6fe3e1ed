// Why this file exists: the compute and size numbers the scheduler plans with. MACs are counted for one sample
// (the probe runs at batch 1) and only for the layers that dominate a CNN's cost:
//   Conv           out elements × (Cin/group) × kH × kW      (= out elements × weight dims[1:])
//   ConvTranspose  in elements × (Cout/group) × kH × kW      (= in elements × weight dims[1:])
//   Gemm, MatMul   M × N × K                                (= out elements × K)
// Everything else (Relu, Add, pooling, BatchNorm if unfused, ...) counts 0: those are memory-bound and a few
// per cent of a CNN's arithmetic at most, and counting them would mix incomparable units.
// Params are the element counts of the initializers a part carries (Constant-node values are not learned and
// are not counted).

import { int64, type OnnxNode } from './onnx-proto.js';
import type { GraphIndex } from './graph.js';
import type { ProbedTensor } from './probe.js';

const prod = (xs: number[]) => xs.reduce((a, b) => a * b, 1);

export function nodeMacs(node: OnnxNode, g: GraphIndex, shapes: Map<string, ProbedTensor>): number {
  const shape = (t: string | undefined): number[] | undefined => {
    if (!t) return undefined;
    const init = g.initializers.get(t);
    return init ? (init.dims ?? []).map(int64) : shapes.get(t)?.shape;
  };
  const out = shape(node.output[0]);
  switch (node.op_type) {
    case 'Conv': {
      const w = shape(node.input[1]);
      return out && w ? prod(out) * prod(w.slice(1)) : 0;
    }
    case 'ConvTranspose': {
      const x = shape(node.input[0]);
      const w = shape(node.input[1]);
      return x && w ? prod(x) * prod(w.slice(1)) : 0;
    }
    case 'Gemm': {
      const a = shape(node.input[0]);
      const transA = node.attribute?.find((x) => x.name === 'transA') as { i?: unknown } | undefined;
      const k = a ? (int64(transA?.i as number | undefined) ? a[0] : a[1]) : undefined;
      return out && k ? prod(out) * k : 0;
    }
    case 'MatMul': {
      const a = shape(node.input[0]);
      return out && a && a.length ? prod(out) * a[a.length - 1]! : 0;
    }
    default:
      return 0;
  }
}

export function partCost(
  nodes: OnnxNode[],
  initializers: { dims?: unknown[] | null }[],
  g: GraphIndex,
  shapes: Map<string, ProbedTensor>,
): { macs: number; params: number } {
  const macs = nodes.reduce((s, n) => s + nodeMacs(n, g, shapes), 0);
  const params = initializers.reduce((s, t) => s + prod((t.dims ?? []).map((d) => int64(d as number))), 0);
  return { macs, params };
}
