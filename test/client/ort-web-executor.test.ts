// (a) The core executor on onnxruntime-web (wasm, single thread, loaded in Node from node_modules) reproduces the
// original unsplit model's seven exits computed by onnxruntime-node, and the Node loading helper really sets
// `env.wasm.wasmPaths` / `numThreads`. Also prints the device latency of the whole model (batch 1).

import type { InferenceSession, Tensor } from 'onnxruntime-common';
import { beforeAll, describe, expect, it } from 'vitest';
import { softmax, top1 } from '../../core/exit-policy.js';
import { preprocessGray } from '../../core/preprocess.js';
import { runProgressive, type SessionProvider } from '../../core/progressive-executor.js';
import { MemoryModelCache } from '../../client/model-cache.js';
import { ModelLoader } from '../../client/model-loader.js';
import { edgeModelSource } from '../../client/model-source.js';
import { loadOrtWebForNode, ortWebDistUrl } from '../../client/node/ort-node.js';
import type { OrtModule } from '../../client/ort-module.js';
import { OrtSessionProvider } from '../../client/session-provider.js';
import { diskFetch } from './support/disk-fetch.js';
import { loadFmnistTest } from './support/fmnist.js';
import { MODEL_ID, readManifest, referenceLogits } from './support/reference.js';

const manifest = readManifest();
const samples = loadFmnistTest(16);
let ort: OrtModule;
let sessions: OrtSessionProvider;
let reference: Float32Array[][];

beforeAll(async () => {
  ort = await loadOrtWebForNode({ numThreads: 1 });
  const loader = new ModelLoader({
    modelId: MODEL_ID,
    source: edgeModelSource('http://edge.test', MODEL_ID),
    fetch: diskFetch().fetch,
    cache: new MemoryModelCache(),
  });
  sessions = new OrtSessionProvider(manifest, loader, ort, { executionProviders: ['wasm'] });
  await sessions.preload();
  reference = await referenceLogits(manifest, samples);
});

/** Wraps exit sessions to record their logits while the executor runs. */
function recording(inner: SessionProvider, logits: Map<number, Float32Array>): SessionProvider {
  return {
    block: (i) => inner.block(i),
    exit: async (i) => {
      const s = await inner.exit(i);
      const name = manifest.exits[i]!.output.name;
      return {
        run: async (feeds: InferenceSession.FeedsType) => {
          const out = await s.run(feeds);
          logits.set(i, new Float32Array((out[name] as Tensor).data as Float32Array));
          return out;
        },
      } as unknown as InferenceSession;
    },
  };
}

describe('onnxruntime-web in Node', () => {
  it('is the Node build, with wasmPaths pointing at node_modules and one thread', () => {
    expect(ortWebDistUrl()).toMatch(/^file:\/\/.*\/node_modules\/onnxruntime-web\/dist\/$/);
    expect(ort.env.wasm.wasmPaths).toBe(ortWebDistUrl());
    expect(ort.env.wasm.numThreads).toBe(1);
  });

  it('reproduces every exit of the original model (max |Δlogit| ≤ 1e-4, same labels)', async () => {
    let maxDiff = 0;
    for (let s = 0; s < samples.length; s++) {
      const logits = new Map<number, Float32Array>();
      const x = preprocessGray(samples[s]!.pixels, manifest.input);
      const r = await runProgressive({
        manifest,
        sessions: recording(sessions, logits),
        createTensor: sessions.createTensor,
        input: x,
        inputShape: [1, 1, 32, 32],
        fromBlock: 0,
        toBlock: manifest.blocks.length,
        threshold: 1, // no early exit: every head runs
      });
      expect(r.outcome.kind).toBe('exit');
      expect(r.blocksRun).toBe(manifest.blocks.length);
      expect(logits.size).toBe(manifest.exits.length);
      for (let e = 0; e < manifest.exits.length; e++) {
        const web = logits.get(e)!;
        const ref = reference[s]![e]!;
        for (let k = 0; k < ref.length; k++) maxDiff = Math.max(maxDiff, Math.abs(web[k]! - ref[k]!));
        expect(top1(softmax(web)).label).toBe(top1(softmax(ref)).label);
      }
    }
    console.log(`[client] ort-web vs ort-node original model: max |Δlogit| = ${maxDiff.toExponential(2)}`);
    expect(maxDiff).toBeLessThanOrEqual(1e-4);
  });

  it('measures whole-model device latency (batch 1, wasm, 1 thread)', async () => {
    const ms: number[] = [];
    const wall: number[] = [];
    for (let rep = 0; rep < 3; rep++) {
      for (const s of samples) {
        const t0 = performance.now();
        const r = await runProgressive({
          manifest,
          sessions,
          createTensor: sessions.createTensor,
          input: preprocessGray(s.pixels, manifest.input),
          inputShape: [1, 1, 32, 32],
          fromBlock: 0,
          toBlock: manifest.blocks.length,
          threshold: 1,
        });
        wall.push(performance.now() - t0);
        ms.push(r.computeMs);
      }
    }
    const q = (a: number[], p: number) => [...a].sort((x, y) => x - y)[Math.floor(p * (a.length - 1))]!;
    console.log(
      `[client] whole model, all 28 blocks + 7 exits, ort-web wasm 1 thread, n=${ms.length}: ` +
        `compute median ${q(ms, 0.5).toFixed(1)} ms p95 ${q(ms, 0.95).toFixed(1)} ms; ` +
        `wall median ${q(wall, 0.5).toFixed(1)} ms p95 ${q(wall, 0.95).toFixed(1)} ms`,
    );
    expect(q(ms, 0.5)).toBeGreaterThan(0);
  });
});
