// `npm run bench:accuracy`: a model's accuracy measured through the real stack, not in-process. Starts the real
// backend and the real worker (`wrangler dev`, loopback) and classifies Fashion-MNIST test images with SpinnClient
// (its public API) under server-only plans — the image leaves the client as the model wants it on the wire (u8
// pixels for a model with a preprocessing recipe) and every block runs on the backend — at each threshold asked
// for. The in-process figures of `npm run model:report` must be reproduced here; a difference would mean the
// deployed path (client preprocessing, codec, edge, backend) computes something else. Prints a table, then one JSON
// line.

import { Command } from 'commander';
import Table from 'cli-table3';
import { SpinnClient } from '../client/index.js';
import { loadOrtWebForNode } from '../client/node/ort-node.js';
import { startStack } from '../harness/stack.js';
import { loadFashionMnist } from '../tools/dataset/fashion-mnist.js';
import { progressBar } from '../tools/cli/progress.js';

const opts = new Command()
  .option('--model <id>', 'model id (a folder of models/ that the edge serves)', 'mobilenetv2-fmnist96')
  .option('--images <n>', 'test images, from the first', (v) => Number(v), 10_000)
  .option('--thresholds <list>', 'exit thresholds, comma-separated (1 = final exit only)', '1')
  .option('--senders <n>', 'concurrent clients, each with its own API key', (v) => Number(v), 8)
  .parse()
  .opts<{ model: string; images: number; thresholds: string; senders: number }>();
const thresholds = opts.thresholds.split(',').map(Number);
if (thresholds.some((t) => !(t > 0 && t <= 1))) throw new Error('--thresholds: each in (0, 1]');

const data = loadFashionMnist('test', { limit: opts.images });
const quantile = (xs: number[], q: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))] ?? NaN;

interface Row {
  threshold: number;
  images: number;
  correct: number;
  accuracy: number;
  exits: Record<string, number>;
  errors: number;
  errorKinds: Record<string, number>;
  p50Ms: number;
  bytesSentP50: number;
}

const stack = await startStack({ apiKeys: opts.senders });
try {
  const ort = await loadOrtWebForNode({ numThreads: 1 });
  const clients = stack.edge.apiKeys.map(
    (apiKey) =>
      new SpinnClient({
        edgeUrl: stack.edge.url,
        apiKey,
        modelId: opts.model,
        ort,
        followEdgePlan: false,
        // The device only steps in if an offload fails (counted as an error here): every answer is the server's.
        localContinuation: 'on-failure',
      }),
  );
  const rows: Row[] = [];
  for (const threshold of thresholds) {
    const row: Row = {
      threshold,
      images: data.count,
      correct: 0,
      accuracy: 0,
      exits: {},
      errors: 0,
      errorKinds: {},
      p50Ms: 0,
      bytesSentP50: 0,
    };
    const ms: number[] = [];
    const bytes: number[] = [];
    const bar = progressBar(`threshold ${threshold}`, data.count);
    let next = 0;
    let done = 0;
    await Promise.all(
      clients.map(async (client) => {
        for (let i = next++; i < data.count; i = next++) {
          const pixels = data.images.subarray(i * 784, (i + 1) * 784);
          try {
            const r = await client.classify(pixels, { plan: { split: 0, threshold } });
            if (r.decidedBy !== 'server') throw new Error(`decided by ${r.decidedBy}`);
            if (r.label === data.labels[i]) row.correct++;
            row.exits[r.exit] = (row.exits[r.exit] ?? 0) + 1;
            ms.push(r.timings.totalMs);
            bytes.push(r.bytesSent);
          } catch (e) {
            row.errors++;
            const kind = (e as Error).message.slice(0, 80);
            row.errorKinds[kind] = (row.errorKinds[kind] ?? 0) + 1;
          }
          bar.update(++done);
        }
      }),
    );
    bar.stop();
    row.accuracy = +((100 * row.correct) / row.images).toFixed(2);
    row.p50Ms = +quantile(ms, 0.5).toFixed(1);
    row.bytesSentP50 = quantile(bytes, 0.5);
    rows.push(row);
  }
  await Promise.all(clients.map((c) => c.dispose()));

  console.log(
    `${opts.model}: ${data.count} Fashion-MNIST test images (${data.source}), server-only plans (split 0), ` +
      `${opts.senders} concurrent clients → wrangler dev (loopback) → backend; answers counted against the labels`,
  );
  const t = new Table({
    head: ['threshold', 'accuracy %', 'answers by exit', 'errors', 'p50 ms', 'bytes sent'],
  });
  for (const r of rows)
    t.push([r.threshold, r.accuracy, JSON.stringify(r.exits), r.errors, r.p50Ms, r.bytesSentP50]);
  console.log(t.toString());
  console.log(JSON.stringify({ model: opts.model, images: data.count, dataset: data.source, results: rows }));
  if (rows.some((r) => r.errors)) process.exitCode = 1;
} finally {
  await stack.stop();
}
