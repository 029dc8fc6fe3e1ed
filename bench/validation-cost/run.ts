// `npm run bench:validate`: what the edge's full check of an offload costs — hardened msgpack decode, schema, core's
// offload check (checkOffload: every rule of validateOffload; the tensor decoded and scanned for finite values, except
// a quant tensor, whose payload is checked and whose header bounds its values) and the re-encode of the forwarded body —
// for real split-5 activations of resnet56-fmnist in each codec. Measured inside workerd (Miniflare; the round trip
// with 200 iterations minus the round trip with none, interleaved, median of 15) and in Node for comparison.
// Prints a table, then one JSON line.

import { readFileSync } from 'node:fs';
import Table from 'cli-table3';
import { build } from 'esbuild';
import { Miniflare } from 'miniflare';
import type { CodecSpec } from '../../core/codec-spec.js';
import { codecLabel } from '../../core/codec-spec.js';
import { checkOffload } from '../../core/offload-validation.js';
import { encodeTensor } from '../../core/tensor-codec.js';
import { PROTOCOL_VERSION, decodeOffload, encodeMessage } from '../../core/wire.js';
import { MODEL_DIR, readModelManifest, realActivations } from '../real-activations.js';

const SPLIT = 5;
const ITER = 200;
const REPS = 15;
const root = new URL('../../', import.meta.url).pathname;
const manifestJson = readFileSync(`${MODEL_DIR}manifest.json`, 'utf8');
const manifest = readModelManifest();
const [{ values, shape }] = (await realActivations(manifest, SPLIT)) as [
  { values: Float32Array; shape: number[] },
];
const specs: CodecSpec[] = [
  { scheme: 'fp32' },
  { scheme: 'lossless' },
  { scheme: 'quant', bits: 8 },
  { scheme: 'quant', bits: 4 },
];
const bodies = specs.map((spec) =>
  encodeMessage({
    v: PROTOCOL_VERSION,
    requestId: 'bench-validate-0001',
    modelId: manifest.id,
    split: SPLIT,
    threshold: 0.9,
    tensor: encodeTensor(values, shape, spec),
    context: { deviceMs: 3, bandwidthBps: 1e6, rttMs: 20 },
  }),
);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

// Node: the same work, timed directly.
const nodeMs = bodies.map((body) => {
  for (let i = 0; i < 50; i++) checkOffload(manifest, decodeOffload(body));
  const runs: number[] = [];
  for (let r = 0; r < REPS; r++) {
    const t0 = performance.now();
    for (let i = 0; i < ITER; i++) {
      const offload = decodeOffload(body);
      checkOffload(manifest, offload);
      encodeMessage(offload);
    }
    runs.push((performance.now() - t0) / ITER);
  }
  return median(runs);
});

// workerd: bundle the tiny worker with the edge's msgpackr alias (the no-eval build).
const bundle = await build({
  entryPoints: [new URL('./worker.ts', import.meta.url).pathname],
  bundle: true,
  format: 'esm',
  platform: 'neutral',
  write: false,
  alias: { msgpackr: `${root}node_modules/msgpackr/dist/index-no-eval.cjs` },
  mainFields: ['module', 'main'],
});
const mf = new Miniflare({
  modules: true,
  script: bundle.outputFiles[0]!.text,
  compatibilityDate: '2026-04-26',
});
try {
  const url = await mf.ready;
  await fetch(url, { method: 'PUT', body: manifestJson });
  const post = async (body: Uint8Array, n: number) => {
    const t0 = performance.now();
    const res = await fetch(url, {
      method: 'POST',
      body: body as BodyInit,
      headers: { 'x-iterations': String(n) },
    });
    await res.text();
    return performance.now() - t0;
  };
  const workerdMs: number[] = [];
  for (const body of bodies) {
    for (let i = 0; i < 3; i++) await post(body, ITER); // warm up the isolate's JIT
    const diffs: number[] = [];
    for (let r = 0; r < REPS; r++) {
      // Alternate the order so drift on this shared machine hits both alike.
      const withWork = r % 2 ? await post(body, ITER) : NaN;
      const without = await post(body, 0);
      const work = r % 2 ? withWork : await post(body, ITER);
      diffs.push((work - without) / ITER);
    }
    workerdMs.push(median(diffs));
  }
  const t = new Table({ head: ['codec', 'offload bytes', 'workerd ms', 'node ms'], style: { head: [] } });
  specs.forEach((s, i) =>
    t.push([codecLabel(s), bodies[i]!.byteLength, workerdMs[i]!.toFixed(3), nodeMs[i]!.toFixed(3)]),
  );
  console.log(
    `decode + validate (full tensor decode, finiteness) + re-encode of a split-${SPLIT} offload (${shape.join('x')}), ` +
      `median of ${REPS} × ${ITER} iterations`,
  );
  console.log(t.toString());
  console.log(
    JSON.stringify({
      split: SPLIT,
      codecs: specs.map(codecLabel),
      bytes: bodies.map((b) => b.byteLength),
      workerdMs: workerdMs.map((x) => +x.toFixed(3)),
      nodeMs: nodeMs.map((x) => +x.toFixed(3)),
    }),
  );
} finally {
  await mf.dispose();
}
