// Why this file exists: the execution graph the partitioner reasons about. ONNX lists nodes and tensor names;
// we index producers and consumers, put nodes in a (stable) topological order, and separate *activations*
// (tensors that depend on the graph input) from *constants* (initializers and anything computed only from
// them, e.g. Constant nodes or Sigmoid(alpha)). Only activations decide where a model can be cut; constant
// subgraphs are copied into every part that reads them, so they never cross a cut.

import { SplitError } from './errors.js';
import type { OnnxGraph, OnnxNode, OnnxTensor, OnnxValueInfo } from './onnx-proto.js';

export interface GraphIndex {
  graph: OnnxGraph;
  /** Nodes in a topological order that keeps the file's order where it already is one. */
  order: OnnxNode[];
  /** Position of each node in `order`. */
  pos: Map<OnnxNode, number>;
  producer: Map<string, OnnxNode>;
  consumers: Map<string, OnnxNode[]>;
  initializers: Map<string, OnnxTensor>;
  /** The one real (non-initializer) graph input. */
  input: OnnxValueInfo;
  outputs: OnnxValueInfo[];
  /** Tensors that depend on the graph input (the input itself included). */
  activations: Set<string>;
  /** Nodes with at least one activation input: the nodes that are partitioned. */
  activationNodes: OnnxNode[];
}

const realInputs = (ins: string[]) => ins.filter((n) => n !== '');

export function buildGraph(graph: OnnxGraph): GraphIndex {
  const initializers = new Map(graph.initializer.map((t) => [t.name, t]));
  if (graph.sparse_initializer?.length) throw new SplitError('sparse initializers are not supported');
  for (const t of graph.initializer) {
    // data_location 1 = EXTERNAL: weights in side files we would have to copy and re-slice.
    if (t.data_location === 1)
      throw new SplitError(`initializer ${t.name} uses external data (not supported)`);
  }
  // Before IR 4 initializers were also listed as graph inputs; those are constants, not inputs.
  const inputs = graph.input.filter((i) => !initializers.has(i.name));
  if (inputs.length !== 1) {
    throw new SplitError(
      `expected exactly one graph input, found ${inputs.length} (${inputs.map((i) => i.name).join(', ')})`,
    );
  }
  const input = inputs[0]!;
  if (graph.output.length === 0)
    throw new SplitError('the model has no graph outputs (nothing to use as exits)');

  const producer = new Map<string, OnnxNode>();
  const consumers = new Map<string, OnnxNode[]>();
  for (const node of graph.node) {
    for (const a of node.attribute ?? []) {
      // Subgraphs (If/Loop/Scan) read outer tensors implicitly; cutting through them is out of scope.
      if (a.g || a.graphs?.length)
        throw new SplitError(`node ${node.name || node.op_type} has a subgraph (not supported)`);
    }
    for (const o of node.output) {
      if (o === '') continue;
      if (producer.has(o)) throw new SplitError(`tensor ${o} is produced twice`);
      producer.set(o, node);
    }
    for (const i of realInputs(node.input)) {
      const list = consumers.get(i) ?? [];
      list.push(node);
      consumers.set(i, list);
    }
  }
  for (const o of graph.output) {
    if (!producer.has(o.name)) throw new SplitError(`graph output ${o.name} is not produced by any node`);
  }

  const order = topoSort(graph.node, producer);
  const pos = new Map(order.map((n, i) => [n, i]));
  const activations = new Set<string>([input.name]);
  const activationNodes: OnnxNode[] = [];
  for (const node of order) {
    if (realInputs(node.input).some((i) => activations.has(i))) {
      activationNodes.push(node);
      for (const o of node.output) if (o) activations.add(o);
    }
  }
  return {
    graph,
    order,
    pos,
    producer,
    consumers,
    initializers,
    input,
    outputs: graph.output,
    activations,
    activationNodes,
  };
}

/** Kahn's algorithm, always taking the earliest ready node in file order, so a sorted file keeps its order. */
function topoSort(nodes: OnnxNode[], producer: Map<string, OnnxNode>): OnnxNode[] {
  const index = new Map(nodes.map((n, i) => [n, i]));
  const waiting = new Map<OnnxNode, number>();
  const dependents = new Map<OnnxNode, OnnxNode[]>();
  for (const n of nodes) {
    const deps = new Set(realInputs(n.input).flatMap((i) => (producer.has(i) ? [producer.get(i)!] : [])));
    waiting.set(n, deps.size);
    for (const d of deps) dependents.set(d, [...(dependents.get(d) ?? []), n]);
  }
  const ready = nodes.filter((n) => waiting.get(n) === 0);
  const out: OnnxNode[] = [];
  while (ready.length) {
    ready.sort((a, b) => index.get(a)! - index.get(b)!);
    const n = ready.shift()!;
    out.push(n);
    for (const d of dependents.get(n) ?? []) {
      const left = waiting.get(d)! - 1;
      waiting.set(d, left);
      if (left === 0) ready.push(d);
    }
  }
  if (out.length !== nodes.length) throw new SplitError('the graph has a cycle');
  return out;
}

/**
 * Every node a set of nodes needs to run besides its activations: the constant-producing nodes (transitively)
 * and the initializers they read. Returned nodes are in graph order.
 */
export function constantClosure(
  g: GraphIndex,
  nodes: OnnxNode[],
): { nodes: OnnxNode[]; initializers: OnnxTensor[] } {
  const constNodes = new Set<OnnxNode>();
  const inits = new Set<OnnxTensor>();
  const visit = (tensor: string) => {
    if (g.activations.has(tensor)) return;
    const init = g.initializers.get(tensor);
    if (init) return void inits.add(init);
    const p = g.producer.get(tensor);
    if (p && !constNodes.has(p)) {
      constNodes.add(p);
      realInputs(p.input).forEach(visit);
    }
  };
  for (const n of nodes) realInputs(n.input).forEach(visit);
  return {
    nodes: [...constNodes].sort((a, b) => g.pos.get(a)! - g.pos.get(b)!),
    initializers: g.graph.initializer.filter((t) => inits.has(t)),
  };
}

export { realInputs };
