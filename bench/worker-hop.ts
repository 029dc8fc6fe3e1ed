// `npm run bench:hop`: what the edge hop costs. Sends the same real offload (a real image's activation at a split)
// alternately straight to the backend and through the worker on workerd (`wrangler dev`, loopback), and reports
// both latency distributions side by side and their difference. Prints a table, then one JSON line.

import { Command } from 'commander';
import Table from 'cli-table3';
import { encodeTensor } from '../core/tensor-codec.js';
import { decodeResult, encodeMessage, PROTOCOL_VERSION, WIRE_CONTENT_TYPE } from '../core/wire.js';
import { startStack } from '../harness/stack.js';
import { progressBar } from '../tools/cli/progress.js';
import { readModelManifest, realActivations } from './real-activations.js';

const opts = new Command()
  .option('--requests <n>', 'requests per path', (v) => Number(v), 200)
  .option('--split <n>', 'split point of the offload', (v) => Number(v), 20)
  .parse()
  .opts<{ requests: number; split: number }>();

const manifest = readModelManifest();
const [act] = await realActivations(manifest, opts.split);
const tensor = encodeTensor(act!.values, act!.shape, { scheme: 'fp32' });
let seq = 0;
const body = () =>
  encodeMessage({
    v: PROTOCOL_VERSION,
    kind: 'offload',
    requestId: `hop-${process.pid}-${seq++}-bench`,
    modelId: manifest.id,
    split: opts.split,
    threshold: 1,
    tensor,
    context: {},
  });

const stack = await startStack({ backend: { workers: 1 } });
const quantile = (xs: number[], q: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;
try {
  const paths = {
    direct: { url: `${stack.backend.url}/infer`, headers: { authorization: `Bearer ${stack.token}` } },
    edge: { url: `${stack.edge.url}/v1/infer`, headers: stack.edgeHeaders },
  };
  const times: Record<keyof typeof paths, number[]> = { direct: [], edge: [] };
  const server: number[] = [];
  const send = async (p: keyof typeof paths) => {
    const t0 = performance.now();
    const res = await fetch(paths[p].url, {
      method: 'POST',
      headers: { 'content-type': WIRE_CONTENT_TYPE, ...paths[p].headers },
      body: body() as Uint8Array<ArrayBuffer>,
    });
    const r = decodeResult(new Uint8Array(await res.arrayBuffer()));
    if (r.status !== 'done') throw new Error(`${p}: ${r.status} ${r.error ?? ''}`);
    return { ms: performance.now() - t0, serverMs: r.serverMs };
  };
  for (let i = 0; i < 20; i++) await send(i % 2 ? 'direct' : 'edge'); // warm both paths
  const bar = progressBar('requests', opts.requests * 2);
  for (let i = 0; i < opts.requests; i++) {
    // Alternate the order so drift on this shared machine hits both paths alike.
    for (const p of (i % 2 ? ['direct', 'edge'] : ['edge', 'direct']) as Array<keyof typeof paths>) {
      const r = await send(p);
      times[p].push(r.ms);
      server.push(r.serverMs);
    }
    bar.update(2 * (i + 1));
  }
  bar.stop();
  const row = (p: keyof typeof paths) => [
    p === 'edge' ? 'client → worker (workerd) → backend' : 'client → backend',
    quantile(times[p], 0.5).toFixed(2),
    quantile(times[p], 0.95).toFixed(2),
  ];
  const t = new Table({ head: ['path', 'p50 ms', 'p95 ms'], style: { head: [] } });
  t.push(row('direct'), row('edge'));
  console.log(
    `${opts.requests} requests per path, split ${opts.split} (${tensor.data.byteLength} B fp32), threshold 1, loopback, backend CPU, 1 worker`,
  );
  console.log(t.toString());
  const added = quantile(times.edge, 0.5) - quantile(times.direct, 0.5);
  console.log(
    `median added latency of the edge hop: ${added.toFixed(2)} ms (server compute p50 ${quantile(server, 0.5).toFixed(2)} ms)`,
  );
  console.log(
    JSON.stringify({
      requests: opts.requests,
      split: opts.split,
      bytes: tensor.data.byteLength,
      directMsP50: quantile(times.direct, 0.5),
      directMsP95: quantile(times.direct, 0.95),
      edgeMsP50: quantile(times.edge, 0.5),
      edgeMsP95: quantile(times.edge, 0.95),
      addedMsP50: added,
      ratioP50: quantile(times.edge, 0.5) / quantile(times.direct, 0.5),
    }),
  );
} finally {
  await stack.stop();
}
