// The progressive walk for several requests at once: the server batches requests of one model that wait at the same
// block (block files have a dynamic batch dimension). Each item joins the batch at its own first block (its split),
// is tested at every exit against its own threshold, and leaves at its exit, at its cancel (checked before every
// block and exit, as in the one-request walk), or at `toBlock`. Between two blocks the rows of the items still in
// the batch are packed into one tensor; with nobody joining or leaving the previous block's output is fed on as is,
// so a batch of one copies nothing. `runProgressive` (progressive-executor.ts) is this walk with one item: one loop
// for client, backend and profiler. Runtime injected; no Node, DOM or Workers API.

import type { Tensor } from 'onnxruntime-common';
import { shouldExit, softmax, top1 } from './exit-policy.js';
import type { ModelManifest } from './manifest.js';
import type { ProgressiveResult, SessionProvider, TensorFactory } from './progressive-executor.js';

export interface BatchItem {
  /** Activation entering block `fromBlock` (the preprocessed image when 0), batch 1. */
  input: Float32Array;
  inputShape: readonly number[];
  /** First block this item runs (the split its activation arrived at). */
  fromBlock: number;
  threshold: number;
  /** Edgent-style truncation: only this exit runs for the item, and it always leaves there. */
  onlyExit?: number;
}

/** A block or exit head run for the items listed (indices into `items`, in the tensor's row order). */
export type BatchStep =
  | { kind: 'block'; index: number; ms: number; items: readonly number[] }
  | {
      kind: 'exit';
      index: number;
      ms: number;
      items: readonly number[];
      labels: readonly number[];
      confidences: readonly number[];
      taken: readonly boolean[];
    };

/**
 * How an item left a batched walk: as in the one-request walk, or `failed` when an exit's output for it was not
 * finite (an input at the edge of float32, a broken model file). Only that item fails; the others walk on.
 */
export type BatchResult = Omit<ProgressiveResult, 'outcome'> & {
  outcome: ProgressiveResult['outcome'] | { kind: 'failed'; error: string };
};

export interface LeftItem {
  item: number;
  result: BatchResult;
}

export interface BatchRunOptions {
  manifest: ModelManifest;
  sessions: SessionProvider;
  createTensor: TensorFactory;
  items: readonly BatchItem[];
  /** Run blocks < toBlock; items still in the batch there leave with their activation (`split`). */
  toBlock: number;
  /** Checked for each item before every block and exit it would take part in; true makes it leave `cancelled`. */
  isCancelled?: (item: number) => boolean;
  /** Called after each block and exit head run. */
  onStep?: (step: BatchStep) => void;
  /** Called as soon as items leave (together when several leave at the same point), before the walk goes on. */
  onLeave?: (left: readonly LeftItem[]) => void;
  /** Clock in ms (performance.now where available). */
  now?: () => number;
}

const defaultNow = () => (typeof performance !== 'undefined' ? performance.now() : Date.now());
const size = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);
const sameDims = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((d, i) => d === b[i]);

/** The rows of one activation tensor: which items they belong to, and the data (rows × row size). */
interface Rows {
  items: number[];
  data: Float32Array;
  /** Shape of one row (without the batch dimension). */
  rowShape: number[];
}

/** Packs `keep` (a subset of `from`'s items, in order) and then the joiners' inputs into one tensor's rows. */
function pack(
  from: Rows | null,
  keep: readonly number[],
  joiners: readonly number[],
  items: readonly BatchItem[],
) {
  const rowShape = from?.rowShape ?? items[joiners[0]!]!.inputShape.slice(1);
  const rowSize = size(rowShape);
  for (const j of joiners) {
    if (!sameDims(items[j]!.inputShape.slice(1), rowShape)) {
      throw new RangeError(
        `item ${j} arrives with shape [${items[j]!.inputShape.join(',')}], the batch holds [${rowShape.join(',')}] rows`,
      );
    }
  }
  // Nobody left and nobody joins: the previous output is the next input. One joiner alone: its own input.
  if (from && joiners.length === 0 && keep.length === from.items.length) return from;
  if (!from && joiners.length === 1) {
    return { items: [joiners[0]!], data: items[joiners[0]!]!.input, rowShape };
  }
  const data = new Float32Array((keep.length + joiners.length) * rowSize);
  let row = 0;
  if (from) {
    const pos = new Map(from.items.map((it, r) => [it, r]));
    for (const it of keep) {
      const r = pos.get(it)!;
      data.set(from.data.subarray(r * rowSize, (r + 1) * rowSize), row++ * rowSize);
    }
  }
  for (const j of joiners) data.set(items[j]!.input, row++ * rowSize);
  return { items: [...keep, ...joiners], data, rowShape };
}

/** The rows of `rows` that belong to `subset` (in `subset`'s order). */
function select(rows: Rows, subset: readonly number[]): Float32Array {
  if (subset.length === rows.items.length) return rows.data;
  const rowSize = size(rows.rowShape);
  const pos = new Map(rows.items.map((it, r) => [it, r]));
  const out = new Float32Array(subset.length * rowSize);
  subset.forEach((it, k) =>
    out.set(rows.data.subarray(pos.get(it)! * rowSize, (pos.get(it)! + 1) * rowSize), k * rowSize),
  );
  return out;
}

function checkItems(o: BatchRunOptions): void {
  const blocks = o.manifest.blocks.length;
  if (o.toBlock < 0 || o.toBlock > blocks)
    throw new RangeError(`toBlock ${o.toBlock} is outside [0, ${blocks}]`);
  o.items.forEach((it, i) => {
    if (!Number.isInteger(it.fromBlock) || it.fromBlock < 0 || it.fromBlock > o.toBlock) {
      throw new RangeError(
        `invalid block range [${it.fromBlock}, ${o.toBlock}) for ${blocks} blocks (item ${i})`,
      );
    }
    if (it.inputShape[0] !== 1)
      throw new RangeError(`item ${i} must have batch 1, got [${it.inputShape.join(',')}]`);
    if (it.input.length !== size(it.inputShape)) {
      throw new RangeError(`item ${i} has ${it.input.length} values for shape [${it.inputShape.join(',')}]`);
    }
  });
}

export async function runProgressiveBatch(o: BatchRunOptions): Promise<BatchResult[]> {
  checkItems(o);
  const { manifest, items } = o;
  const now = o.now ?? defaultNow;
  // Filled, not `new Array(n)`: every() and map() skip the holes of a sparse array, and the walk once ended when
  // the batch was empty for a while (every() saw only the items that had left), stranding the items that join later
  // without an answer — a backend request hung forever (found by the hostile storm and the fault test).
  const results = new Array<BatchResult | undefined>(items.length).fill(undefined);
  const blocksRun = new Array<number>(items.length).fill(0);
  const computeMs = new Array<number>(items.length).fill(0);
  const leave = (left: { item: number; outcome: BatchResult['outcome'] }[]) => {
    if (!left.length) return;
    const done = left.map(({ item, outcome }) => {
      const result = { outcome, blocksRun: blocksRun[item]!, computeMs: computeMs[item]! };
      results[item] = result;
      return { item, result };
    });
    o.onLeave?.(done);
  };
  /** Items among `ids` whose cancel is set leave as cancelled at `atBlock`; the others are returned. */
  const dropCancelled = (ids: readonly number[], atBlock: number): number[] => {
    if (!o.isCancelled) return [...ids];
    const gone = ids.filter((i) => o.isCancelled!(i));
    leave(gone.map((item) => ({ item, outcome: { kind: 'cancelled', atBlock } })));
    return gone.length ? ids.filter((i) => !gone.includes(i)) : [...ids];
  };

  // Items that start where the walk ends leave at once with their own activation.
  leave(
    items.flatMap((it, item) =>
      it.fromBlock === o.toBlock
        ? [
            {
              item,
              outcome: {
                kind: 'split' as const,
                split: o.toBlock,
                values: it.input,
                shape: [...it.inputShape],
              },
            },
          ]
        : [],
    ),
  );
  let rows: Rows | null = null;
  const first = Math.min(o.toBlock, ...items.map((it) => it.fromBlock));
  for (let b = first; b < o.toBlock; b++) {
    const keep = dropCancelled(rows?.items.filter((i) => results[i] === undefined) ?? [], b);
    const joiners = dropCancelled(
      items.flatMap((it, i) => (it.fromBlock === b ? [i] : [])),
      b,
    );
    if (!keep.length && !joiners.length) {
      rows = null; // nobody here; later items may still join further on
      if (results.every((r) => r !== undefined)) break;
      continue;
    }
    const input = pack(rows, keep, joiners, items);
    rows = await runBlock(o, b, input, now, (ms) => {
      for (const i of input.items) {
        computeMs[i]! += ms;
        blocksRun[i]!++;
      }
    });
    for (const exit of manifest.exits) {
      if (exit.afterBlock !== b) continue;
      const wanted = rows.items.filter(
        (i) => results[i] === undefined && (items[i]!.onlyExit ?? exit.index) === exit.index,
      );
      const heads = dropCancelled(wanted, b + 1);
      if (!heads.length) continue;
      leave(await runExit(o, exit.index, rows, heads, now, computeMs));
    }
  }
  // Whoever is still in the batch at toBlock leaves with its activation.
  const rest = rows ? rows.items.filter((i) => results[i] === undefined) : [];
  if (rows) {
    const r = rows;
    const rowSize = size(r.rowShape);
    leave(
      rest.map((item) => {
        const at = r.items.indexOf(item);
        const values = r.items.length === 1 ? r.data : r.data.slice(at * rowSize, (at + 1) * rowSize);
        return {
          item,
          outcome: { kind: 'split' as const, split: o.toBlock, values, shape: [1, ...r.rowShape] },
        };
      }),
    );
  }
  return results.map((r, i) => {
    if (!r) throw new Error(`item ${i} never left the batch`); // unreachable: every path above answers
    return r;
  });
}

async function runBlock(
  o: BatchRunOptions,
  b: number,
  input: Rows,
  now: () => number,
  account: (ms: number) => void,
): Promise<Rows> {
  const block = o.manifest.blocks[b]!;
  const session = await o.sessions.block(b);
  const t0 = now();
  const out = await session.run({
    [block.inputs[0]!.name]: o.createTensor(input.data, [input.items.length, ...input.rowShape]),
  });
  const tensor = out[block.outputs[0]!.name] as Tensor;
  const ms = now() - t0;
  account(ms);
  o.onStep?.({ kind: 'block', index: b, ms, items: input.items });
  return { items: input.items, data: tensor.data as Float32Array, rowShape: [...tensor.dims.slice(1)] };
}

async function runExit(
  o: BatchRunOptions,
  e: number,
  rows: Rows,
  heads: readonly number[],
  now: () => number,
  computeMs: number[],
): Promise<{ item: number; outcome: BatchResult['outcome'] }[]> {
  const exit = o.manifest.exits[e]!;
  const head = await o.sessions.exit(e);
  const t0 = now();
  const res = await head.run({
    [exit.input.name]: o.createTensor(select(rows, heads), [heads.length, ...rows.rowShape]),
  });
  const logits = (res[exit.output.name] as Tensor).data as Float32Array;
  const classes = logits.length / heads.length;
  const decided = heads.map((item, k) => {
    const probabilities = softmax(logits, k * classes, classes);
    const { label, confidence } = top1(probabilities);
    const it = o.items[item]!;
    const taken = e === it.onlyExit || shouldExit(confidence, it.threshold, exit.final);
    return { item, probabilities, label, confidence, taken };
  });
  const ms = now() - t0;
  for (const item of heads) computeMs[item]! += ms;
  o.onStep?.({
    kind: 'exit',
    index: e,
    ms,
    items: heads,
    labels: decided.map((d) => d.label),
    confidences: decided.map((d) => d.confidence),
    taken: decided.map((d) => d.taken),
  });
  // A non-finite confidence must never become an answer: no exit rule can judge it, and it would be sent on as if
  // it were one. That item leaves `failed`; the rest of the batch is unaffected.
  const left: { item: number; outcome: BatchResult['outcome'] }[] = [];
  for (const { item, probabilities, label, confidence, taken } of decided) {
    if (!Number.isFinite(confidence)) {
      const error = `exit ${e} (after block ${exit.afterBlock}) produced non-finite logits`;
      left.push({ item, outcome: { kind: 'failed', error } });
    } else if (taken)
      left.push({ item, outcome: { kind: 'exit', exit: e, label, confidence, probabilities } });
  }
  return left;
}
