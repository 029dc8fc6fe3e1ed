// The one progressive-inference loop shared by the client (onnxruntime-web), the backend (onnxruntime-node) and the
// profiler: run blocks in order, test each exit hanging after a block against the threshold, stop on an exit, at
// the split, or when cancelled. Written against onnxruntime-common's interfaces; the runtime is injected, so this
// file holds no Node, DOM or Workers API. The walk itself is progressive-batch.ts's (one item here); this file keeps
// the one-request interface and the types every runtime shares.

import type { InferenceSession, Tensor } from 'onnxruntime-common';
import type { ModelManifest } from './manifest.js';
import { runProgressiveBatch, type BatchStep } from './progressive-batch.js';

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

/** Thrown when an exit's output is not finite: the run has no answer (the batched walk fails just that item). */
export class NonFiniteOutputError extends Error {
  override readonly name = 'NonFiniteOutputError';
}

/** One request's progressive walk: the batched walk (progressive-batch.ts) with a single item. */
export async function runProgressive(o: ProgressiveRunOptions): Promise<ProgressiveResult> {
  const { manifest } = o;
  if (o.fromBlock < 0 || o.toBlock > manifest.blocks.length || o.fromBlock > o.toBlock) {
    throw new RangeError(
      `invalid block range [${o.fromBlock}, ${o.toBlock}) for ${manifest.blocks.length} blocks`,
    );
  }
  const onStep = o.onStep;
  const isCancelled = o.isCancelled;
  const [result] = await runProgressiveBatch({
    manifest,
    sessions: o.sessions,
    createTensor: o.createTensor,
    items: [
      {
        input: o.input,
        inputShape: o.inputShape,
        fromBlock: o.fromBlock,
        threshold: o.threshold,
        ...(o.onlyExit !== undefined ? { onlyExit: o.onlyExit } : {}),
      },
    ],
    toBlock: o.toBlock,
    ...(isCancelled ? { isCancelled: () => isCancelled() } : {}),
    ...(onStep
      ? {
          onStep: (s: BatchStep) =>
            onStep(
              s.kind === 'block'
                ? { kind: 'block', index: s.index, ms: s.ms }
                : {
                    kind: 'exit',
                    index: s.index,
                    ms: s.ms,
                    label: s.labels[0]!,
                    confidence: s.confidences[0]!,
                    taken: s.taken[0]!,
                  },
            ),
        }
      : {}),
    ...(o.now ? { now: o.now } : {}),
  });
  if (result!.outcome.kind === 'failed') throw new NonFiniteOutputError(result!.outcome.error);
  return result as ProgressiveResult;
}
