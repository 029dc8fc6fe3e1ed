// Why this file exists: what `model:exits` needs to know about a user's ONNX classifier before touching data —
// that it is one we can serve (one image input [N, C, H, W] with C = 1 or 3, one output [N, classes], float32) and
// where exits may hang: the splitter's own single-tensor cuts (tools/split/partition.ts), each with its share of
// the MACs, from which the exit points nearest the requested MAC fractions are picked.

import { buildGraph, type GraphIndex } from '../split/graph.js';
import { nodeMacs } from '../split/cost.js';
import { decodeModel, int64, type OnnxModel } from '../split/onnx-proto.js';
import { partition } from '../split/partition.js';
import { probeShapes, type ProbedTensor } from '../split/probe.js';
import { SplitError } from '../split/errors.js';

export class ExitsError extends Error {
  override readonly name = 'ExitsError';
}

export interface CutPoint {
  /** The cut tensor (a block's output). */
  tensor: string;
  /** Its shape at batch 1: [1, C, H, W]. */
  shape: number[];
  /** MACs of everything up to and including the cut, over the whole network's. */
  macsFraction: number;
}

export interface SourceModel {
  model: OnnxModel;
  graph: GraphIndex;
  shapes: Map<string, ProbedTensor>;
  input: { name: string; channels: number; height: number; width: number };
  output: { name: string; classes: number };
  /** Every usable cut, in network order. */
  cuts: CutPoint[];
  totalMacs: number;
}

const describe = (shape: number[] | undefined) => `[${(shape ?? []).join(', ')}]`;

export async function inspectSourceModel(
  bytes: Uint8Array,
  path: string,
  cutOps: string[],
): Promise<SourceModel> {
  const model = decodeModel(bytes, path);
  let g: GraphIndex;
  try {
    g = buildGraph(model.graph!);
  } catch (e) {
    if (e instanceof SplitError && /exactly one graph input/.test(e.message))
      throw new ExitsError(`${path}: ${e.message}; model:exits needs a single image input`);
    throw e;
  }
  const dims = (g.input.type?.tensor_type?.shape?.dim ?? []).map((d) => int64(d.dim_value));
  const elem = g.input.type?.tensor_type?.elem_type;
  if (
    dims.length !== 4 ||
    dims.slice(1).some((d) => d <= 0) ||
    (elem !== 1 && elem !== undefined && elem !== null)
  )
    throw new ExitsError(
      `${path}: input ${g.input.name} is not an image: expected float32 [N, C, H, W] with fixed C, H, W, ` +
        `got ${elem === 1 ? 'float32' : `dtype ${elem}`} ${describe(dims)}`,
    );
  const [batch, channels, height, width] = dims as [number, number, number, number];
  if (batch > 0)
    throw new ExitsError(
      `${path}: input batch dimension is fixed at ${batch}; export the model with a dynamic batch axis ` +
        '(torch.onnx.export(..., dynamic_axes={"input": {0: "batch"}}))',
    );
  if (channels !== 1 && channels !== 3)
    throw new ExitsError(
      `${path}: input has ${channels} channels; image preprocessing makes 1 (grey) or 3 (colour)`,
    );
  if (g.outputs.length !== 1)
    throw new ExitsError(
      `${path}: ${g.outputs.length} graph outputs (${g.outputs.map((o) => o.name).join(', ')}); ` +
        'model:exits takes a plain classifier with one output [N, classes] (a model that already has exits can go straight to model:split)',
    );

  const shapes = await probeShapes(model);
  const out = g.outputs[0]!.name;
  const outShape = shapes.get(out)?.shape;
  if (!outShape || outShape.length !== 2 || shapes.get(out)?.type !== 'float32')
    throw new ExitsError(
      `${path}: output ${out} is ${describe(outShape)}; expected float32 logits [N, classes]`,
    );

  let parts;
  try {
    parts = partition(g, { cutOps });
  } catch (e) {
    if (e instanceof SplitError && /no cut points/.test(e.message))
      throw new ExitsError(
        `${path}: no ${cutOps.join('/')} output is a single-tensor cut of the network, so there is nowhere to ` +
          `hang an exit or split it (try --cut-ops with the model's activation, e.g. Relu,Add)`,
      );
    throw e;
  }
  const macs = (nodes: (typeof parts.blocks)[number]['nodes']) =>
    nodes.reduce((s, n) => s + nodeMacs(n, g, shapes), 0);
  const blockMacs = parts.blocks.map((b) => macs(b.nodes));
  const totalMacs = blockMacs.reduce((a, b) => a + b, 0) + macs(parts.exits.at(-1)!.nodes);
  let cum = 0;
  const cuts = parts.blocks.map((b, i) => {
    cum += blockMacs[i]!;
    const p = shapes.get(b.output)!;
    return { tensor: b.output, shape: p.shape, macsFraction: totalMacs > 0 ? cum / totalMacs : 0 };
  });
  return {
    model,
    graph: g,
    shapes,
    input: { name: g.input.name, channels, height, width },
    output: { name: out, classes: outShape[1]! },
    cuts: cuts.filter((c) => c.shape.length === 4),
    totalMacs,
  };
}

/**
 * For each target MAC fraction, the cut nearest to it (ties: the earlier one). A cut is used once, and a cut within
 * `minGap` of the MAC share of an exit already placed is skipped (two exits a few MACs apart cost a head each and
 * decide nothing new). The last cut is never used: it feeds the final classifier, so an exit there would cost what
 * the final exit costs. Returned in network order.
 */
export function pickExitCuts(
  all: readonly CutPoint[],
  targets: readonly number[],
  minGap = 0.05,
): CutPoint[] {
  const cuts = all.slice(0, -1);
  if (!cuts.length)
    throw new ExitsError(
      'the network has a single cut point, which feeds its own classifier: nowhere to hang an exit',
    );
  const chosen: CutPoint[] = [];
  for (const t of [...targets].sort((a, b) => a - b)) {
    let best = cuts[0]!;
    for (const c of cuts) if (Math.abs(c.macsFraction - t) < Math.abs(best.macsFraction - t)) best = c;
    if (chosen.every((c) => Math.abs(c.macsFraction - best.macsFraction) >= minGap)) chosen.push(best);
  }
  return cuts.filter((c) => chosen.includes(c));
}
