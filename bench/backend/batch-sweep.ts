// `npm run bench:backend -- --sweep`: what a batch buys in compute alone. The backend's own sessions (one intra-op
// thread) run the same real activations in-process at each batch size, interleaved and repeated; the measure is CPU
// time per image (process CPU, so other load on this shared machine inflates it less than wall time would). The CPU
// defaults in gpu-backend/batching.ts come from this sweep.

import Table from 'cli-table3';
import type { ModelManifest } from '../../core/manifest.js';
import { runProgressiveBatch } from '../../core/progressive-batch.js';
import { createTensor, loadSessions } from '../../gpu-backend/sessions.js';
import { median } from './summary.js';
import { MODEL_DIR, type SplitWorkload } from './workload.js';

export async function batchSweep(
  manifest: ModelManifest,
  workloads: SplitWorkload[],
  sizes: number[],
  rounds: number,
): Promise<Record<number, Record<number, number>>> {
  const loaded = await loadSessions([{ id: manifest.id, dir: MODEL_DIR }], {
    provider: 'cpu',
    threads: 1,
    spinning: false,
  });
  const { sessions } = loaded.models.get(manifest.id)!;
  const cpuMsPerImage = async (w: SplitWorkload, batch: number, images: number) => {
    const c0 = process.cpuUsage();
    for (let done = 0; done < images; done += batch) {
      const items = Array.from({ length: batch }, (_, k) => {
        const a = w.activations[(done + k) % w.activations.length]!;
        return { input: a.values, inputShape: a.shape, fromBlock: w.split, threshold: w.threshold };
      });
      await runProgressiveBatch({ manifest, sessions, createTensor, items, toBlock: manifest.blocks.length });
    }
    const c = process.cpuUsage(c0);
    return (c.user + c.system) / 1000 / images;
  };
  const out: Record<number, Record<number, number>> = {};
  for (const w of workloads) {
    // About 0.5 s of compute per measurement whatever the split.
    const images = Math.max(
      64,
      Math.round(256 * (manifest.blocks.length / (manifest.blocks.length - w.split))),
    );
    const samples = new Map<number, number[]>();
    for (const b of sizes) await cpuMsPerImage(w, b, Math.max(b, 32)); // warm each shape
    for (let r = 0; r < rounds; r++) {
      for (const b of r % 2 ? [...sizes].reverse() : sizes) {
        samples.set(b, [...(samples.get(b) ?? []), await cpuMsPerImage(w, b, images)]);
      }
    }
    out[w.split] = Object.fromEntries(sizes.map((b) => [b, median(samples.get(b)!)]));
  }
  const t = new Table({ head: ['split', ...sizes.map((b) => `batch ${b}`)], style: { head: [] } });
  for (const [split, bySize] of Object.entries(out)) {
    const base = bySize[sizes[0]!]!;
    t.push([split, ...sizes.map((b) => `${bySize[b]!.toFixed(3)} (${(base / bySize[b]!).toFixed(2)}x)`)]);
  }
  console.log(
    `CPU ms per image in-process (one intra-op thread, threshold ${workloads[0]?.threshold}), median of ${rounds} interleaved rounds; (x) = gain over batch ${sizes[0]}`,
  );
  console.log(t.toString());
  return out;
}
