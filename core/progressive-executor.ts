// The one progressive-inference loop shared by the client (onnxruntime-web), the backend (onnxruntime-node) and the
// profiler: run blocks in order, test each exit hanging after a block against the threshold, stop on an exit, at
// the split, or when cancelled. Written against onnxruntime-common's interfaces; the runtime is injected, so this
// file holds no Node, DOM or Workers API.

import type { InferenceSession, Tensor } from 'onnxruntime-common';
import { shouldExit, softmax, top1 } from './exit-policy.js';
import type { ModelManifest } from './manifest.js';

/** Supplies sessions for block and exit files; implementations load lazily and cache. */
export interface SessionProvider {
  block(index: number): Promise<InferenceSession>;
  exit(index: number): Promise<InferenceSession>;
}

/** Makes a float32 tensor of the runtime in use (onnxruntime-node and -web each bring their own Tensor class). */
export type TensorFactory = (values: Float32Array, dims: readonly number[]) => Tensor;

export interface ProgressiveRunOptions {
  manifest: ModelManifest;
  sessions: SessionProvider;
  createTensor: TensorFactory;
  /** Activation entering block `fromBlock` (the preprocessed image when 0), batch 1. */
  input: Float32Array;
  inputShape: readonly number[];
  /** First block to run (the split the activation arrived at). */
  fromBlock: number;
  /** Run blocks < toBlock; stop there and hand back the activation unless an exit fired. */
  toBlock: number;
  threshold: number;
  /**
   * Edgent-style truncated model: only this exit runs, and every sample leaves there (the threshold and all other
   * exits are ignored; blocks after it never run).
   */
  onlyExit?: number;
  /** Checked before every block and exit; a true answer stops the run (cancellation). */
  isCancelled?: () => boolean;
  /** Called after each block and exit with its compute time, for timelines and the online profiler. */
  onStep?: (step: ExecutorStep) => void;
  /** Clock in ms (performance.now where available). */
  now?: () => number;
}

export type ExecutorStep =
  | { kind: 'block'; index: number; ms: number }
  | { kind: 'exit'; index: number; ms: number; label: number; confidence: number; taken: boolean };

export type ProgressiveOutcome =
  | { kind: 'exit'; exit: number; label: number; confidence: number; probabilities: Float32Array }
  | { kind: 'split'; split: number; values: Float32Array; shape: number[] }
  | { kind: 'cancelled'; atBlock: number };

export interface ProgressiveResult {
  outcome: ProgressiveOutcome;
  /** Blocks actually run. */
  blocksRun: number;
  /** Total compute ms (blocks + exits). */
  computeMs: number;
}

/** Thrown when an exit's output is not finite; the run has no answer (the backend reports it `failed`). */
export class NonFiniteOutputError extends Error {
  override readonly name = 'NonFiniteOutputError';
}

const defaultNow = () => (typeof performance !== 'undefined' ? performance.now() : Date.now());

export async function runProgressive(o: ProgressiveRunOptions): Promise<ProgressiveResult> {
  const { manifest } = o;
  const now = o.now ?? defaultNow;
  if (o.fromBlock < 0 || o.toBlock > manifest.blocks.length || o.fromBlock > o.toBlock) {
    throw new RangeError(
      `invalid block range [${o.fromBlock}, ${o.toBlock}) for ${manifest.blocks.length} blocks`,
    );
  }
  let values = o.input;
  let shape = [...o.inputShape];
  let computeMs = 0;
  let blocksRun = 0;
  for (let b = o.fromBlock; b < o.toBlock; b++) {
    if (o.isCancelled?.()) return { outcome: { kind: 'cancelled', atBlock: b }, blocksRun, computeMs };
    const block = manifest.blocks[b]!;
    const session = await o.sessions.block(b);
    const t0 = now();
    const out = await session.run({ [block.inputs[0]!.name]: o.createTensor(values, shape) });
    const tensor = out[block.outputs[0]!.name] as Tensor;
    values = tensor.data as Float32Array;
    shape = [...tensor.dims];
    const ms = now() - t0;
    computeMs += ms;
    blocksRun++;
    o.onStep?.({ kind: 'block', index: b, ms });

    for (const exit of manifest.exits) {
      if (exit.afterBlock !== b) continue;
      if (o.onlyExit !== undefined && exit.index !== o.onlyExit) continue;
      if (o.isCancelled?.()) return { outcome: { kind: 'cancelled', atBlock: b + 1 }, blocksRun, computeMs };
      const head = await o.sessions.exit(exit.index);
      const t1 = now();
      const res = await head.run({ [exit.input.name]: o.createTensor(values, shape) });
      const logits = (res[exit.output.name] as Tensor).data as Float32Array;
      const probabilities = softmax(logits);
      const { label, confidence } = top1(probabilities);
      // A NaN or infinite logit (an input at the edge of float32, a broken model file) must never become an answer:
      // no exit rule can judge it, and a non-finite confidence would be sent on as if it were one.
      if (!Number.isFinite(confidence)) {
        throw new NonFiniteOutputError(`exit ${exit.index} (after block ${b}) produced non-finite logits`);
      }
      const taken = exit.index === o.onlyExit || shouldExit(confidence, o.threshold, exit.final);
      const ems = now() - t1;
      computeMs += ems;
      o.onStep?.({ kind: 'exit', index: exit.index, ms: ems, label, confidence, taken });
      if (taken)
        return {
          outcome: { kind: 'exit', exit: exit.index, label, confidence, probabilities },
          blocksRun,
          computeMs,
        };
    }
  }
  return { outcome: { kind: 'split', split: o.toBlock, values, shape }, blocksRun, computeMs };
}
