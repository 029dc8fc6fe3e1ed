// Per-block and per-exit latency at batch 1 on this host: each block is timed on the real activation it sees for
// a real sample, repeated, and the median kept (the machine is shared and noisy; medians resist that).

import { cpus } from 'node:os';
import type { Tensor } from 'onnxruntime-common';
import type { LatencyProfile, ModelManifest } from '../../core/manifest.js';
import type { SessionProvider, TensorFactory } from '../../core/progressive-executor.js';

export function hostLabel(): string {
  const c = cpus();
  return `${c[0]?.model.trim() ?? 'unknown CPU'} (${c.length} cores visible)`;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export interface LatencyRunOptions {
  runtime: LatencyProfile['runtime'];
  executionProvider: string;
  role: LatencyProfile['role'];
  threads: number;
  repeats?: number;
  warmup?: number;
  onProgress?: (step: number, total: number) => void;
}

export async function measureLatency(
  manifest: ModelManifest,
  sessions: SessionProvider,
  createTensor: TensorFactory,
  sample: Float32Array,
  o: LatencyRunOptions,
): Promise<LatencyProfile> {
  const repeats = o.repeats ?? 30;
  const warmup = o.warmup ?? 3;
  const total = manifest.blocks.length + manifest.exits.length;
  const time = async (run: () => Promise<unknown>) => {
    for (let i = 0; i < warmup; i++) await run();
    const xs: number[] = [];
    for (let i = 0; i < repeats; i++) {
      const t0 = performance.now();
      await run();
      xs.push(performance.now() - t0);
    }
    return median(xs);
  };
  const blockMs: number[] = [];
  const exitMs: number[] = new Array<number>(manifest.exits.length).fill(0);
  let values = sample;
  let dims: readonly number[] = [1, ...manifest.input.shape.slice(1)];
  let step = 0;
  for (const block of manifest.blocks) {
    const session = await sessions.block(block.index);
    const feeds = { [block.inputs[0]!.name]: createTensor(values, dims) };
    blockMs.push(await time(() => session.run(feeds)));
    const out = (await session.run(feeds))[block.outputs[0]!.name] as Tensor;
    values = out.data as Float32Array;
    dims = out.dims;
    o.onProgress?.(++step, total);
    for (const exit of manifest.exits) {
      if (exit.afterBlock !== block.index) continue;
      const head = await sessions.exit(exit.index);
      const ef = { [exit.input.name]: createTensor(values, dims) };
      exitMs[exit.index] = await time(() => head.run(ef));
      o.onProgress?.(++step, total);
    }
  }
  return {
    host: hostLabel(),
    runtime: o.runtime,
    executionProvider: o.executionProvider,
    role: o.role,
    threads: o.threads,
    repeats,
    blockMs: blockMs.map((x) => Math.round(x * 1000) / 1000),
    exitMs: exitMs.map((x) => Math.round(x * 1000) / 1000),
    measuredAt: new Date().toISOString(),
  };
}
