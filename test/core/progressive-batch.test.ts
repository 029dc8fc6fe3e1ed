// The batched progressive walk against the one-request walk, on real Fashion-MNIST images, the real block and exit
// files and onnxruntime-node: a batch of requests entering at different splits with different thresholds (and
// Edgent-style single exits) must give each request exactly what it gets alone (exit, label, blocks run; softmax
// probabilities within float tolerance), join at its split, leave at its exit or at its cancel, and be reported as
// it leaves. Cancels are decided by the walk's own progress (a hook), never by timing.

import * as ort from 'onnxruntime-node';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  runProgressiveBatch,
  type BatchItem,
  type BatchResult,
  type BatchRunOptions,
  type BatchStep,
} from '../../core/progressive-batch.js';
import {
  runProgressive,
  type ProgressiveResult,
  type SessionProvider,
} from '../../core/progressive-executor.js';
import type { ModelManifest } from '../../core/manifest.js';
import { DeviceSide, MODEL_DIR, testImages } from '../gpu-backend/helpers.js';

const createTensor = (values: Float32Array, dims: readonly number[]) =>
  new ort.Tensor('float32', values, dims);

/** Largest |difference| between two probability vectors. */
const maxDiff = (a: Float32Array, b: Float32Array) =>
  a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i]!)), 0);

describe('runProgressiveBatch', () => {
  let device: DeviceSide;
  let m: ModelManifest;
  let sessions: SessionProvider;
  let items: BatchItem[];

  beforeAll(async () => {
    device = await DeviceSide.load();
    m = device.manifest;
    const opts: ort.InferenceSession.SessionOptions = { intraOpNumThreads: 1, executionProviders: ['cpu'] };
    const blocks = await Promise.all(
      m.blocks.map((b) => ort.InferenceSession.create(join(MODEL_DIR, b.file), opts)),
    );
    const exits = await Promise.all(
      m.exits.map((e) => ort.InferenceSession.create(join(MODEL_DIR, e.file), opts)),
    );
    sessions = { block: async (i) => blocks[i]!, exit: async (i) => exits[i]! };
    const images = testImages(16, m);
    const splits = [0, 0, 0, 5, 5, 13, 20, 20, 27, 0, 5, 13, 0, 20, 1, 0];
    const thresholds = [0.5, 0.8, 0.95, 1, 0.9, 0.5, 1, 0.8, 0.6, 1, 0.99, 0.7, 0.3, 0.95, 1, 0.85];
    items = [];
    for (let i = 0; i < images.length; i++) {
      const act = await device.activation(images[i]!, splits[i]!);
      items.push({
        input: act.values,
        inputShape: act.shape,
        fromBlock: splits[i]!,
        threshold: thresholds[i]!,
      });
    }
    // Two Edgent-style truncated plans: one exit answers whatever the confidence.
    items[9] = { ...items[9]!, onlyExit: 3 };
    items[12] = { ...items[12]!, onlyExit: 6 };
  });

  /** The batched walk over `its` (all the test's items by default) to the end of the model. */
  const walk = (o: Partial<BatchRunOptions> = {}) =>
    runProgressiveBatch({ manifest: m, sessions, createTensor, items, toBlock: m.blocks.length, ...o });

  const alone = (it: BatchItem, toBlock = m.blocks.length) =>
    runProgressive({
      manifest: m,
      sessions,
      createTensor,
      input: it.input,
      inputShape: it.inputShape,
      fromBlock: it.fromBlock,
      toBlock,
      threshold: it.threshold,
      ...(it.onlyExit !== undefined ? { onlyExit: it.onlyExit } : {}),
    });

  function expectSame(got: BatchResult, want: ProgressiveResult, what: string) {
    expect(got.outcome.kind, what).toBe(want.outcome.kind);
    expect(got.blocksRun, what).toBe(want.blocksRun);
    if (got.outcome.kind === 'exit' && want.outcome.kind === 'exit') {
      expect(got.outcome.exit, what).toBe(want.outcome.exit);
      expect(got.outcome.label, what).toBe(want.outcome.label);
      expect(Math.abs(got.outcome.confidence - want.outcome.confidence), what).toBeLessThanOrEqual(1e-5);
      expect(maxDiff(got.outcome.probabilities, want.outcome.probabilities), what).toBeLessThanOrEqual(1e-5);
    }
    if (got.outcome.kind === 'split' && want.outcome.kind === 'split') {
      expect(got.outcome.shape).toEqual(want.outcome.shape);
      expect(maxDiff(got.outcome.values, want.outcome.values), what).toBeLessThanOrEqual(1e-4);
    }
  }

  it('answers an item that joins after the batch has emptied (a gap between the first leaving and the next joining)', async () => {
    // Item 0 joins at block 5 and leaves at the first exit after it (threshold 0: exit 1, after block 8); item 1
    // joins at block 13. Between them the batch is empty: the walk must go on to block 13, not end there.
    const early = { ...items[3]!, threshold: 0 };
    const late = items[5]!;
    const got = await runProgressiveBatch({
      manifest: m,
      sessions,
      createTensor,
      items: [early, late],
      toBlock: m.blocks.length,
    });
    expect(got).toHaveLength(2);
    expect(got[0]!.outcome).toMatchObject({ kind: 'exit', exit: 1 });
    expectSame(got[1]!, await alone(late), 'the late joiner');
  });

  it('gives every request what it gets alone, joining at its split and batching where they meet', async () => {
    const steps: BatchStep[] = [];
    const got = await walk({ onStep: (s) => steps.push(s) });
    const exits = new Set<number>();
    for (let i = 0; i < items.length; i++) {
      const want = await alone(items[i]!);
      expectSame(got[i]!, want, `item ${i} (split ${items[i]!.fromBlock}, thr ${items[i]!.threshold})`);
      expect(got[i]!.computeMs).toBeGreaterThan(0);
      if (want.outcome.kind === 'exit') exits.add(want.outcome.exit);
      // It first runs at its own split.
      const first = steps.find((s) => s.kind === 'block' && s.items.includes(i))!;
      expect(first.index).toBe(items[i]!.fromBlock);
    }
    expect(got[9]!.outcome).toMatchObject({ kind: 'exit', exit: 3 });
    expect(got[12]!.outcome).toMatchObject({ kind: 'exit', exit: 6 });
    // The grid exercises early and final exits, and requests really ran together.
    expect(exits.size).toBeGreaterThanOrEqual(3);
    const blockSteps = steps.filter((s) => s.kind === 'block');
    expect(Math.max(...blockSteps.map((s) => s.items.length))).toBeGreaterThanOrEqual(8);
    // One session run per block at most: the batch walks each block once.
    expect(new Set(blockSteps.map((s) => s.index)).size).toBe(blockSteps.length);
  });

  it('reports each request as it leaves, before the walk goes on', async () => {
    const order: string[] = [];
    const res = await walk({
      onStep: (s) => order.push(`${s.kind}${s.index}`),
      onLeave: (left) => order.push(...left.map((l) => `leave${l.item}`)),
    });
    for (let i = 0; i < items.length; i++) {
      const o = res[i]!.outcome;
      if (o.kind !== 'exit') continue;
      const leftAt = order.indexOf(`leave${i}`);
      // Right after the exit head that answered it (others may leave at the same point), before any later block.
      let k = leftAt - 1;
      while (order[k]!.startsWith('leave')) k--;
      expect(order[k], `item ${i}`).toBe(`exit${o.exit}`);
      expect(order.slice(0, leftAt)).not.toContain(`block${m.exits[o.exit]!.afterBlock + 1}`);
    }
  });

  it('takes a cancelled request out between blocks and leaves the others untouched', async () => {
    let blocksDone = 0;
    // Item 0 is cancelled once 3 blocks ran, item 1 once 10 ran (it may already have left), item 6 from the start.
    const cancelAt = new Map([
      [0, 3],
      [1, 10],
      [6, 0],
    ]);
    const res = await walk({
      isCancelled: (i) => cancelAt.has(i) && blocksDone >= cancelAt.get(i)!,
      onStep: (s) => {
        if (s.kind === 'block') blocksDone++;
      },
    });
    expect(res[0]!.outcome).toEqual({ kind: 'cancelled', atBlock: 3 });
    expect(res[0]!.blocksRun).toBe(3);
    expect(res[6]!.outcome).toEqual({ kind: 'cancelled', atBlock: 20 });
    expect(res[6]!.blocksRun).toBe(0);
    for (let i = 0; i < items.length; i++) {
      if (cancelAt.has(i)) continue;
      expectSame(res[i]!, await alone(items[i]!), `item ${i}`);
    }
  });

  it('hands back the activation of those still in the batch at toBlock', async () => {
    const early = items
      .filter((it) => it.fromBlock <= 13)
      .map((it) => ({ ...it, threshold: 1, onlyExit: undefined }));
    const res = await walk({ items: early, toBlock: 14 });
    for (let i = 0; i < early.length; i++) expectSame(res[i]!, await alone(early[i]!, 14), `item ${i}`);
    expect(res.every((r) => r.outcome.kind === 'split')).toBe(true);
  });

  it('refuses inputs that cannot be batched', async () => {
    const run = (its: BatchItem[]) => walk({ items: its });
    const a = items[0]!;
    await expect(run([{ ...a, inputShape: [2, 1, 32, 32] }])).rejects.toThrow(/batch 1/);
    await expect(run([{ ...a, input: a.input.subarray(1) }])).rejects.toThrow(/values for shape/);
    await expect(run([a, { ...a, inputShape: [1, 1, 16, 64] }])).rejects.toThrow(/rows/);
    await expect(run([{ ...a, fromBlock: 30 }])).rejects.toThrow(/invalid block range/);
  });
});
