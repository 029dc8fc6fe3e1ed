// `npm run bench:hop`: what the edge hop costs, beside the floor of any workerd hop. The same real offload (a real
// image's activation at a split, encoded as the client encodes it) goes, interleaved in one run, (1) straight to the
// backend, (2) through a pass-through worker that only forwards the body (bench/pass-through/; under wrangler dev
// also behind an [assets] router, the hop SPINN's worker paid while its static site was its own [assets]) and (3) through
// SPINN's worker — first both workers under `wrangler dev` (its local proxy included, as in development), then both
// under Miniflare without that proxy. It also measures the client's own work per offload (bench/hop/client-work.ts)
// and the message sizes. With `--ab <git refs>` (comma-separated) the worker of each of those commits
// (bench/hop/old-worker.ts) is one more path in the same interleaved loop: old and new critical paths side by side. Prints tables, then one JSON
// line with the issue-12 targets.

import { loadavg } from 'node:os';
import { Command } from 'commander';
import Table from 'cli-table3';
import { bearer } from '../harness/api-keys.js';
import { startEdge, startStack, type EdgeService } from '../harness/stack.js';
import { decodeOffload, encodeMessage } from '../core/wire.js';
import { deflate as fflateDeflate } from '../core/codec-deflate.js';
import { nodeDeflate } from '../client/node/node-deflate.js';
import { nodeFetch } from '../client/node/node-fetch.js';
import {
  measureClientWork,
  recordAnswer,
  steadyStateOffload,
  type ClientWork,
  type ClientStacks,
} from './hop/client-work.js';
import { startReplayServer } from './hop/replay-server.js';
import { startMiniflarePaths } from './hop/miniflare-paths.js';
import { startPassThrough } from './pass-through/start.js';
import { materialiseWorker } from './hop/old-worker.js';
import { measurePaths, quantile, type HopPath, type PathTimes } from './hop/paths.js';
import { readModelManifest, realActivations } from './real-activations.js';

// 1000 requests a path by default: the edge's excess over the pass-through at p50 moved by ±0.4 ms between runs of
// 300 (+1.47…+2.33 ms) and by 0.07 ms between four runs of 1000 (2026-11-30); a run takes about 2.5 minutes.
const opts = new Command()
  .option('--requests <n>', 'requests per path and setting', (v) => Number(v), 1000)
  .option('--split <n>', 'split point of the offload', (v) => Number(v), 5)
  .option('--client-offloads <n>', 'offloads timed for the client-work figure', (v) => Number(v), 300)
  .option('--no-miniflare', 'skip the Miniflare setting')
  .option(
    '--ab <refs>',
    'also time the worker of these git commits (comma-separated) in the same loop (wrangler dev)',
  )
  .parse()
  .opts<{ requests: number; split: number; clientOffloads: number; miniflare: boolean; ab?: string }>();

const manifest = readModelManifest();
const [act] = await realActivations(manifest, opts.split);
const offload = steadyStateOffload(manifest, opts.split, act!);

/** The median of each Server-Timing metric (`name;dur=ms`) over the answers. */
function serverTimingMedians(headers: string[]): Record<string, number> {
  const byName: Record<string, number[]> = {};
  for (const h of headers)
    for (const m of h.matchAll(/([a-z]+);dur=([\d.]+)/g)) (byName[m[1]!] ??= []).push(Number(m[2]));
  return Object.fromEntries(Object.entries(byName).map(([k, v]) => [k, quantile(v, 0.5)]));
}

// Several API keys, taken in turn by the edge's paths and by the client-work loop: a run sends the edge more offloads
// than one key's rate limit allows (600 per 10 s).
const stack = await startStack({ backend: { workers: 1 }, apiKeys: 8 });
const stats = (t: PathTimes) => ({ p50: quantile(t.ms, 0.5), p95: quantile(t.ms, 0.95) });
const over = (r: Record<string, PathTimes>, q: number) =>
  quantile(r.edge!.ms, q) - quantile(r.passThrough!.ms, q);
/** The JSON figures of one setting: each path's p50 and p95 and the edge's cost over the pass-through. */
const hopFigures = (r: Record<string, PathTimes>) => ({
  directMsP50: stats(r.direct!).p50,
  directMsP95: stats(r.direct!).p95,
  passThroughMsP50: stats(r.passThrough!).p50,
  passThroughMsP95: stats(r.passThrough!).p95,
  edgeMsP50: stats(r.edge!).p50,
  edgeMsP95: stats(r.edge!).p95,
  edgeOverPassThroughMsP50: over(r, 0.5),
  edgeOverPassThroughMsP95: over(r, 0.95),
  ...(r.passThroughAssets
    ? {
        passThroughAssetsMsP50: stats(r.passThroughAssets).p50,
        passThroughAssetsMsP95: stats(r.passThroughAssets).p95,
        edgeOverAssetsPassThroughMsP50: quantile(r.edge!.ms, 0.5) - stats(r.passThroughAssets).p50,
        edgeOverAssetsPassThroughMsP95: quantile(r.edge!.ms, 0.95) - stats(r.passThroughAssets).p95,
      }
    : {}),
});
try {
  const passThrough = await startPassThrough(stack, 'plain');
  // The same pass-through behind an [assets] router: the floor for a worker that serves static files itself (the edge
  // did until the site became a Worker of its own, site/wrangler.toml).
  const passThroughAssets = await startPassThrough(stack, 'assets');
  const refs = opts.ab ? opts.ab.split(',') : [];
  const olds: EdgeService[] = [];
  let dev: Record<string, PathTimes>;
  try {
    for (const ref of refs)
      olds.push(
        await startEdge({
          backendUrl: stack.backend.url,
          token: stack.token,
          ...materialiseWorker(ref),
        }),
      );
    const paths: HopPath[] = [
      {
        name: 'direct',
        url: `${stack.backend.url}/infer`,
        headers: { authorization: `Bearer ${stack.token}` },
      },
      { name: 'passThrough', url: passThrough.url, headers: {} },
      { name: 'passThroughAssets', url: passThroughAssets.url, headers: {} },
      {
        name: 'edge',
        url: `${stack.edge.url}/v1/infer`,
        headers: {},
        rotate: stack.edge.apiKeys.map((k) => bearer(k)),
      },
    ];
    olds.forEach((old, k) =>
      paths.push({
        name: `edge@${refs[k]}`,
        url: `${old.url}/v1/infer`,
        headers: {},
        rotate: old.apiKeys.map((k) => bearer(k)),
        // Protocol 2 always carried a context (default {}); a worker of that time reads it on every offload.
        body: () => encodeMessage({ ...decodeOffload(offload.body()), context: {} }),
      }),
    );
    dev = await measurePaths('wrangler dev', paths, offload.body, opts.requests);
  } finally {
    for (const old of olds) await old.stop();
    await passThroughAssets.stop();
    await passThrough.stop();
  }
  let mf: Record<string, PathTimes> | undefined;
  if (opts.miniflare) {
    const m = await startMiniflarePaths(stack.backend.url, stack.token);
    try {
      mf = await measurePaths(
        'miniflare',
        [
          {
            name: 'direct',
            url: `${stack.backend.url}/infer`,
            headers: { authorization: `Bearer ${stack.token}` },
          },
          { name: 'passThrough', url: m.passThroughUrl, headers: {} },
          { name: 'edge', url: `${m.edgeUrl}/v1/infer`, headers: {}, rotate: m.edgeKeys },
        ],
        offload.body,
        opts.requests,
      );
    } finally {
      await m.stop();
    }
  }
  // The client's work per offload, at full device speed: against an instant replay of the edge's answer (its own
  // process), and against the live edge, where this machine's wake-up cost after each wait is counted too
  // (bench/hop/replay-server.ts says why both). Each with the Node client's default transport and global fetch.
  const edgeInfer = `${stack.edge.url}/v1/infer`;
  const recorded = await recordAnswer(edgeInfer, stack.edgeHeaders, offload.encode().body);
  const globalFetch: typeof fetch = (input, init) => globalThis.fetch(input, init);
  const stacks = {
    node: { fetch: nodeFetch, deflate: nodeDeflate },
    portable: { fetch: globalFetch, deflate: fflateDeflate },
    nodeHttpFflate: { fetch: nodeFetch, deflate: fflateDeflate },
  } satisfies ClientStacks;
  const replay = await startReplayServer(recorded);
  let instant: Record<string, ClientWork>;
  try {
    instant = await measureClientWork(
      manifest,
      offload,
      replay.url,
      [{}],
      opts.clientOffloads,
      stacks,
      recorded.body,
    );
  } finally {
    replay.stop();
  }
  const live = await measureClientWork(
    manifest,
    offload,
    edgeInfer,
    stack.edge.apiKeys.map((k) => bearer(k)),
    opts.clientOffloads,
    stacks,
    recorded.body,
  );
  const client = instant.node!;
  const portable = instant.portable!;
  const withFflate = instant.nodeHttpFflate!;

  const table = new Table({ head: ['setting', 'path', 'p50 ms', 'p95 ms'], style: { head: [] } });
  const describe: Record<string, string> = {
    direct: 'client → backend',
    passThrough: 'client → pass-through worker → backend',
    passThroughAssets: 'client → pass-through worker behind [assets] → backend',
    edge: "client → SPINN's worker → backend",
  };
  for (const ref of refs) describe[`edge@${ref}`] = `client → SPINN's worker at ${ref} → backend`;
  for (const [setting, r] of [
    ['wrangler dev', dev],
    ['miniflare', mf],
  ] as const) {
    if (!r) continue;
    for (const name of Object.keys(r))
      table.push([setting, describe[name]!, stats(r[name]!).p50.toFixed(2), stats(r[name]!).p95.toFixed(2)]);
  }
  console.log(
    `${opts.requests} requests per path, interleaved; split ${opts.split}, ${offload.body().byteLength} B offload ` +
      `(${offload.codec}); loopback, backend CPU with 1 worker`,
  );
  console.log(table.toString());
  const timing = serverTimingMedians(dev.edge!.serverTiming);
  console.log(
    `edge over pass-through, wrangler dev: p50 ${over(dev, 0.5).toFixed(2)} ms, p95 ${over(dev, 0.95).toFixed(2)} ms`,
  );
  if (dev.passThroughAssets)
    console.log(
      `edge over the pass-through behind [assets], wrangler dev: p50 ${(quantile(dev.edge!.ms, 0.5) - quantile(dev.passThroughAssets.ms, 0.5)).toFixed(2)} ms`,
    );
  if (mf)
    console.log(
      `edge over pass-through, miniflare:    p50 ${over(mf, 0.5).toFixed(2)} ms, p95 ${over(mf, 0.95).toFixed(2)} ms`,
    );
  console.log(
    `the edge's Server-Timing, medians (ms): ${Object.entries(timing)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
  );
  const ab = refs.map((ref) => {
    const old = stats(dev[`edge@${ref}`]!);
    const ours = stats(dev.edge!);
    return {
      ref,
      edgeMsP50: old.p50,
      edgeMsP95: old.p95,
      thisMinusRefMsP50: ours.p50 - old.p50,
      thisMinusRefMsP95: ours.p95 - old.p95,
    };
  });
  for (const a of ab)
    console.log(
      `this edge minus the edge at ${a.ref}: p50 ${a.thisMinusRefMsP50.toFixed(2)} ms, p95 ${a.thisMinusRefMsP95.toFixed(2)} ms`,
    );
  const load = loadavg()[0]!;
  console.log(`load average (1 min) at the end: ${load.toFixed(1)}`);
  console.log(
    `message sizes: offload ${offload.body().byteLength} B of which ${offload.overheadBytes} B beyond tensor and model id; ` +
      `result ${quantile(dev.edge!.resultBytes, 0.5)} B (plan unchanged)`,
  );
  const work = (w: ClientWork) =>
    `p50 ${w.p50.toFixed(3)} ms, p95 ${w.p95.toFixed(3)} ms (own ${w.ownP50.toFixed(3)}: encode ` +
    `${w.encodeP50.toFixed(3)}, result decode + check ${w.checkP50.toFixed(3)}, profiler ` +
    `${w.profilerP50.toFixed(3)}; HTTP stack ${w.httpP50.toFixed(3)})`;
  console.log(
    `client work per offload (CPU time of this process, ${opts.clientOffloads} offloads, alternating):`,
  );
  const rows: [string, ClientWork][] = [
    ['instant edge replay, the Node client (node:http, node:zlib)', client],
    ['instant edge replay, portable (global fetch, fflate)', portable],
    ['instant edge replay, node:http with fflate', withFflate],
    ['live edge, the Node client (node:http, node:zlib)', live.node!],
    ['live edge, portable (global fetch, fflate)', live.portable!],
    ['live edge, node:http with fflate', live.nodeHttpFflate!],
  ];
  for (const [label, w] of rows) console.log(`  ${`${label}:`.padEnd(62)}${work(w)}`);
  console.log(
    JSON.stringify({
      requests: opts.requests,
      split: opts.split,
      codec: offload.codec,
      offloadBytes: offload.body().byteLength,
      ...hopFigures(dev),
      ...(mf ? { miniflare: hopFigures(mf) } : {}),
      ...(ab.length ? { ab } : {}),
      serverTimingMedians: timing,
      loadAverage: Math.round(load * 10) / 10,
      offloadOverheadBytes: offload.overheadBytes,
      resultBytes: quantile(dev.edge!.resultBytes, 0.5),
      clientMsPerOffloadP50: client.p50,
      clientMsPerOffloadP95: client.p95,
      clientOwnMsPerOffloadP50: client.ownP50,
      clientOwnMsPerOffloadP95: client.ownP95,
      clientFetchMsPerOffloadP50: client.httpP50,
      clientFetchMsPerOffloadP95: client.httpP95,
      clientEncodeMsPerOffloadP50: client.encodeP50,
      clientPortableMsPerOffloadP50: portable.p50,
      clientPortableMsPerOffloadP95: portable.p95,
      clientPortableEncodeMsPerOffloadP50: portable.encodeP50,
      clientFflateMsPerOffloadP50: withFflate.p50,
      clientFflateEncodeMsPerOffloadP50: withFflate.encodeP50,
      clientLiveEdgeMsPerOffloadP50: live.node!.p50,
      clientLiveEdgeMsPerOffloadP95: live.node!.p95,
      clientLiveEdgePortableMsPerOffloadP50: live.portable!.p50,
    }),
  );
} finally {
  await stack.stop();
}
