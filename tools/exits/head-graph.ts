// Why this file exists: the ONNX side of an SDN-style exit head. The feature reduction is parameter-free — max and
// average pooling of the cut tensor down to a small grid (at most `maxFeatures` values each), flattened and
// concatenated — so it is built twice from one description: once as extra outputs of the frozen network (to
// extract training features with onnxruntime), once inside the final model followed by the trained Gemm. SDN's
// heads mix the two poolings with one learnt scalar; a linear layer on both is the same family with a mix per
// weight, and keeps training convex.

import type { OnnxAttribute, OnnxModel, OnnxNode, OnnxTensor } from '../split/onnx-proto.js';
import { ExitsError, type CutPoint } from './cut-points.js';

export interface HeadPlan {
  cut: CutPoint;
  /** Pooling kernel (= stride) along H and W. */
  kernel: [number, number];
  /** Features the reduction yields: 2 × C × floor(H / kH) × floor(W / kW). */
  features: number;
}

/** The finest pooling grid (4×4, 2×2 or 1×1, as SDN's 4×4 when it fits) whose features fit `maxFeatures`. */
export function planHead(cut: CutPoint, maxFeatures: number): HeadPlan {
  const [, c, h, w] = cut.shape as [number, number, number, number];
  for (const grid of [4, 2, 1]) {
    const kernel: [number, number] = [Math.ceil(h / Math.min(grid, h)), Math.ceil(w / Math.min(grid, w))];
    const features = 2 * c * Math.floor(h / kernel[0]) * Math.floor(w / kernel[1]);
    if (features <= maxFeatures || grid === 1) return { cut, kernel, features };
  }
  throw new Error('unreachable');
}

// AttributeProto fields the splitter's typings leave out; protobufjs encodes them by their onnx.proto names.
const attr = (a: { name: string; type: number; i?: number; ints?: number[] }) =>
  a as unknown as OnnxAttribute;
const ints = (name: string, v: number[]) => attr({ name, type: 7 /* INTS */, ints: v });
const int = (name: string, v: number) => attr({ name, type: 2 /* INT */, i: v });

/** Nodes computing `${prefix}_features` [N, features] from the cut tensor. */
export function reductionNodes(p: HeadPlan, prefix: string): { nodes: OnnxNode[]; output: string } {
  const pool = (op: string, tag: string): OnnxNode[] => [
    {
      op_type: op,
      name: `${prefix}_${tag}`,
      input: [p.cut.tensor],
      output: [`${prefix}_${tag}`],
      attribute: [ints('kernel_shape', p.kernel), ints('strides', p.kernel)],
    },
    {
      op_type: 'Flatten',
      name: `${prefix}_${tag}_flat`,
      input: [`${prefix}_${tag}`],
      output: [`${prefix}_${tag}_flat`],
      attribute: [int('axis', 1)],
    },
  ];
  const output = `${prefix}_features`;
  return {
    nodes: [
      ...pool('MaxPool', 'max'),
      ...pool('AveragePool', 'avg'),
      {
        op_type: 'Concat',
        name: output,
        input: [`${prefix}_max_flat`, `${prefix}_avg_flat`],
        output: [output],
        attribute: [int('axis', 1)],
      },
    ],
    output,
  };
}

const floatTensor = (name: string, dims: number[], values: Float32Array): OnnxTensor =>
  ({
    name,
    dims,
    data_type: 1,
    raw_data: new Uint8Array(values.buffer, values.byteOffset, values.byteLength),
  }) as OnnxTensor;

const logitsInfo = (name: string, batch: string, classes: number) => ({
  name,
  type: { tensor_type: { elem_type: 1, shape: { dim: [{ dim_param: batch }, { dim_value: classes }] } } },
});

/** A tensor name not used anywhere in the graph. */
function freshName(taken: Set<string>, want: string): string {
  let name = want;
  for (let i = 1; taken.has(name); i++) name = `${want}_${i}`;
  taken.add(name);
  return name;
}

function takenNames(model: OnnxModel): Set<string> {
  const g = model.graph!;
  return new Set([
    ...g.node.flatMap((n) => [...n.input, ...n.output]),
    ...g.initializer.map((t) => t.name),
    ...g.input.map((i) => i.name),
  ]);
}

/** The frozen network with each head's reduced features as extra outputs (before the logits). */
export function featureModel(source: OnnxModel, plans: HeadPlan[]): { model: OnnxModel; outputs: string[] } {
  const g = source.graph!;
  const taken = takenNames(source);
  const nodes: OnnxNode[] = [];
  const outputs: string[] = [];
  plans.forEach((p, i) => {
    const r = reductionNodes(p, freshName(taken, `spinn_exit${i}`));
    nodes.push(...r.nodes);
    outputs.push(r.output);
  });
  const batch = g.input[0]?.type?.tensor_type?.shape?.dim?.[0]?.dim_param || 'batch';
  const model: OnnxModel = {
    ...source,
    graph: {
      ...g,
      node: [...g.node, ...nodes],
      output: [
        ...outputs.map((name, i) => ({
          name,
          type: {
            tensor_type: {
              elem_type: 1,
              shape: { dim: [{ dim_param: batch }, { dim_value: plans[i]!.features }] },
            },
          },
        })),
        ...g.output,
      ],
    },
  };
  return { model, outputs };
}

export interface TrainedHead {
  plan: HeadPlan;
  /** [classes × features] and [classes]. */
  weight: Float32Array;
  bias: Float32Array;
}

/**
 * The source network with the trained heads attached: outputs `exit0`…, then the source's own output unchanged and
 * last (the splitter's convention: the last output is the final classifier).
 */
export function modelWithExits(source: OnnxModel, heads: TrainedHead[], classes: number): OnnxModel {
  const g = source.graph!;
  if (g.output.length !== 1) throw new ExitsError('internal: the source must have one output');
  const taken = takenNames(source);
  const batch = g.input[0]?.type?.tensor_type?.shape?.dim?.[0]?.dim_param || 'batch';
  const nodes: OnnxNode[] = [];
  const inits: OnnxTensor[] = [];
  const outputs = heads.map((h, i) => {
    const prefix = freshName(taken, `spinn_exit${i}`);
    const r = reductionNodes(h.plan, prefix);
    const out = freshName(taken, `exit${i}`);
    inits.push(floatTensor(`${prefix}_weight`, [classes, h.plan.features], h.weight));
    inits.push(floatTensor(`${prefix}_bias`, [classes], h.bias));
    nodes.push(...r.nodes, {
      op_type: 'Gemm',
      name: `${prefix}_gemm`,
      input: [r.output, `${prefix}_weight`, `${prefix}_bias`],
      output: [out],
      attribute: [int('transB', 1)],
    });
    return logitsInfo(out, batch, classes);
  });
  return {
    ...source,
    producer_name: 'spinn-ts model:exits',
    graph: {
      ...g,
      node: [...g.node, ...nodes],
      initializer: [...g.initializer, ...inits],
      output: [...outputs, ...g.output],
    },
  };
}
