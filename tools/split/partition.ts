// Why this file exists: deciding where the model may be cut, the heart of the splitter. It is model-agnostic:
// it looks only at the dataflow, never at node names.
//  - Every graph output is an exit, in graph-output order; the last one is the final classifier.
//  - The head of a non-final exit is the set of nodes whose results reach only that output.
//  - The backbone is every other (live) node. A cut point, as SPINN defines it, is the output of a Relu such that
//    cutting the backbone there is a *single-tensor* cut: nothing produced before it, other than it, is read
//    after it. So a residual block's inner Relu is not a cut (the shortcut still needs the block input), and a
//    Relu inside one branch of an Inception module is not a cut (the sibling branches are still live).
//  - Blocks are the backbone nodes between consecutive cuts; the final head is what follows the last cut.
// Using every valid cut yields the finest blocks; the scheduler then picks among them.

import { SplitError } from './errors.js';
import { realInputs, type GraphIndex } from './graph.js';
import type { OnnxNode } from './onnx-proto.js';

export interface Part {
  nodes: OnnxNode[];
  input: string;
  output: string;
}
export interface BlockPart extends Part {
  index: number;
}
export interface ExitPart extends Part {
  index: number;
  afterBlock: number;
  final: boolean;
}
export interface Partition {
  blocks: BlockPart[];
  exits: ExitPart[];
  /** Activation nodes that reach no graph output and were left out of every part. */
  deadNodes: OnnxNode[];
}

export interface PartitionOptions {
  /** Op types whose output may be a cut point; SPINN uses Relu. */
  cutOps?: string[];
}

export function partition(g: GraphIndex, opts: PartitionOptions = {}): Partition {
  const cutOps = new Set(opts.cutOps ?? ['Relu']);
  const outIndex = new Map(g.outputs.map((o, i) => [o.name, i]));
  const finalIdx = g.outputs.length - 1;

  // Which graph outputs each activation node reaches (reverse topological sweep).
  const reach = new Map<OnnxNode, Set<number>>();
  for (const node of [...g.activationNodes].reverse()) {
    const r = new Set<number>();
    for (const o of node.output) {
      const k = outIndex.get(o);
      if (k !== undefined) r.add(k);
      for (const c of g.consumers.get(o) ?? []) for (const x of reach.get(c) ?? []) r.add(x);
    }
    reach.set(node, r);
  }
  const live = g.activationNodes.filter((n) => reach.get(n)!.size > 0);
  const deadNodes = g.activationNodes.filter((n) => reach.get(n)!.size === 0);

  const heads = g.outputs.map(() => [] as OnnxNode[]);
  const backbone: OnnxNode[] = [];
  for (const n of live) {
    const r = reach.get(n)!;
    const only = r.size === 1 ? [...r][0]! : -1;
    if (only >= 0 && only !== finalIdx) heads[only]!.push(n);
    else backbone.push(n);
  }

  // Single-tensor cut test: with backbone nodes in topological order, the output t of the node at position p is
  // a cut iff every other activation produced at or before p (the graph input included) has its last backbone
  // use at or before p. (For a DAG whose nodes all lead to the final output this is exactly "t dominates the
  // rest of the backbone", so it does not depend on which topological order we picked.)
  const producedAt = new Map<string, number>([[g.input.name, -1]]);
  const lastUse = new Map<string, number>();
  backbone.forEach((n, i) => {
    for (const o of n.output) if (o) producedAt.set(o, i);
    for (const t of realInputs(n.input)) if (g.activations.has(t)) lastUse.set(t, i);
  });
  // liveAfter[p] = how many tensors produced at or before p are still read after p.
  const opened = new Array<number>(backbone.length + 1).fill(0);
  const closed = new Array<number>(backbone.length + 1).fill(0);
  for (const [t, p] of producedAt) {
    const last = lastUse.get(t);
    if (last !== undefined && last > p) {
      opened[p + 1]!++;
      closed[last]!++;
    }
  }
  const cuts: { tensor: string; at: number }[] = [];
  let crossing = opened[0]!; // the graph input, produced 'at -1'
  backbone.forEach((n, p) => {
    crossing += opened[p + 1]! - closed[p]!;
    // crossing = tensors produced at <= p and read after p
    const t = n.output[0];
    if (!t || !cutOps.has(n.op_type) || outIndex.has(t)) return;
    const tCrosses = (lastUse.get(t) ?? -1) > p ? 1 : 0;
    if (crossing - tCrosses === 0 && tCrosses === 1) cuts.push({ tensor: t, at: p });
  });
  if (cuts.length === 0) {
    throw new SplitError(
      `no cut points: no ${[...cutOps].join('/')} output in the backbone is a single-tensor cut ` +
        `(SPINN splits only after such layers)`,
    );
  }

  const blocks: BlockPart[] = cuts.map((c, i) => ({
    index: i,
    nodes: backbone.slice(i === 0 ? 0 : cuts[i - 1]!.at + 1, c.at + 1),
    input: i === 0 ? g.input.name : cuts[i - 1]!.tensor,
    output: c.tensor,
  }));
  const cutBlock = new Map(cuts.map((c, i) => [c.tensor, i]));
  const last = cuts[cuts.length - 1]!;
  heads[finalIdx] = backbone.slice(last.at + 1);

  const exits: ExitPart[] = heads.map((nodes, k) => {
    const name = g.outputs[k]!.name;
    if (nodes.length === 0) {
      throw new SplitError(
        k === finalIdx
          ? `nothing follows the last cut point, so the final output ${name} has no head`
          : `exit ${k} (${name}) has no head of its own: its output is also used by the backbone or another exit`,
      );
    }
    const inside = new Set(nodes.flatMap((n) => n.output));
    const reads = [
      ...new Set(
        nodes.flatMap((n) => realInputs(n.input).filter((t) => g.activations.has(t) && !inside.has(t))),
      ),
    ];
    if (reads.length !== 1) {
      throw new SplitError(
        `exit head ${k} (${name}) reads ${reads.length} backbone tensors (${reads.join(', ')}); ` +
          'an exit head must hang on exactly one cut tensor',
      );
    }
    const input = reads[0]!;
    const afterBlock = cutBlock.get(input);
    if (afterBlock === undefined) {
      throw new SplitError(
        input === g.input.name
          ? `exit head ${k} (${name}) reads the graph input directly; an exit must follow at least one block`
          : `exit head ${k} (${name}) reads ${input}, which is not a cut point ` +
              `(only ${[...cutOps].join('/')} outputs that alone carry the backbone forward are)`,
      );
    }
    return { index: k, nodes, input, output: name, afterBlock, final: k === finalIdx };
  });
  exits.forEach((e, k) => {
    if (k > 0 && e.afterBlock < exits[k - 1]!.afterBlock) {
      throw new SplitError(
        `graph outputs are not in block order: exit ${k} (${e.output}) hangs after block ${e.afterBlock}, ` +
          `before exit ${k - 1} (block ${exits[k - 1]!.afterBlock}); reorder the model's outputs`,
      );
    }
  });
  // Defensive: each block must read only its predecessor's cut tensor (guaranteed by the cut test above).
  for (const b of blocks) {
    const inside = new Set(b.nodes.flatMap((n) => n.output));
    for (const n of b.nodes)
      for (const t of realInputs(n.input))
        if (g.activations.has(t) && !inside.has(t) && t !== b.input)
          throw new Error(`internal: block ${b.index} reads ${t} besides ${b.input}`);
  }
  return { blocks, exits, deadNodes };
}
