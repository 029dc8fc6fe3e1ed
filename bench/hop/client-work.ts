// bench:hop's client figures. The steady-state offload is built by the client's own code (client/offload-message.ts:
// the codec the client chooses for the split, no replan fields), and its size beyond the tensor and the model id is
// what the protocol costs per offload. The client's work per offload is the CPU time this process spends on one
// offload through the client's own functions — encode, the request (client/offload.ts: fetch, read, decode, check)
// and the profiler update (PlanKeeper.onResult) — measured with process.cpuUsage, so waiting on the network and the
// server is not counted while the HTTP stack's own work is. The total is split honestly in two: the client's own work
// (encode, the result's decode and check by client/checks/wire.ts, timed on the same result bytes the edge answers,
// and the profiler update) and what is left, the HTTP stack (request, headers, body read, abort wiring), which a
// browser does natively off the page's thread. Client stacks (a transport and a compressor) are timed side by side:
// the Node client's defaults (client/node/: node:http and node:zlib), the portable defaults as they run in Node
// (global fetch, undici's WHATWG layer, and fflate), and the Node transport with fflate (what the encoder alone buys).

import type { Deflate } from '../../core/codec-deflate.js';
import type { ModelManifest } from '../../core/manifest.js';
import { chooseCodec } from '../../core/codec-choice.js';
import { packMsgpack } from '../../core/msgpack.js';
import { DEFAULT_SLA } from '../../core/sla.js';
import { encodeMessage, WIRE_CONTENT_TYPE } from '../../core/wire.js';
import { decodeResult } from '../../client/checks/wire.js';
import { encodeActivation, offloadMessage } from '../../client/offload-message.js';
import { startOffload } from '../../client/offload.js';
import { PlanKeeper } from '../../client/plan-keeper.js';
import { PlanResolver } from '../../client/plan-resolver.js';
import { newRequestId } from '../../client/request-id.js';
import { quantile } from './paths.js';
import type { RecordedAnswer } from './replay-server.js';

type Activation = { values: Float32Array; shape: number[] };

export interface SteadyOffload {
  /** A fresh body (new request id) each call. */
  body(): Uint8Array;
  codec: string;
  split: number;
  overheadBytes: number;
  /** The client's encode step: the activation with the codec (packed by `deflate`), the message around it, msgpack. */
  encode(deflate?: Deflate): { body: Uint8Array; requestId: string };
}

export function steadyStateOffload(manifest: ModelManifest, split: number, act: Activation): SteadyOffload {
  const threshold = 1;
  const codec = chooseCodec({ manifest, split, threshold }).codec;
  const encode = (deflate?: Deflate) => {
    const requestId = newRequestId();
    const body = encodeMessage(
      offloadMessage({
        requestId,
        modelId: manifest.id,
        plan: { split, threshold, codec },
        tensor: encodeActivation(codec, act, undefined, deflate),
      }),
    );
    return { body, requestId };
  };
  const sample = offloadMessage({
    requestId: newRequestId(),
    modelId: manifest.id,
    plan: { split, threshold, codec },
    tensor: encodeActivation(codec, act, undefined),
  });
  // Beyond the tensor (header, shape and payload, as packed) and the model id (its key and value).
  const overheadBytes =
    encodeMessage(sample).byteLength -
    packMsgpack(sample.tensor).byteLength -
    (packMsgpack({ modelId: sample.modelId }).byteLength - 1);
  const name = codec.scheme === 'quant' ? `quant ${codec.bits} bit` : codec.scheme;
  return { body: () => encode().body, encode, codec: name, split, overheadBytes };
}

export interface ClientWork {
  /** All of this process's CPU per offload. */
  p50: number;
  p95: number;
  encodeP50: number;
  /** The result's decode and check (msgpack + the zod/mini mirror). */
  checkP50: number;
  profilerP50: number;
  /** encode + check + profiler, per offload. */
  ownP50: number;
  ownP95: number;
  /** The rest: the HTTP stack (node:http or global fetch) and the request's promise and abort wiring. */
  httpP50: number;
  httpP95: number;
}

/** The edge's answer to `body` (protocol 3, plan unchanged): for timing its decode alone, and for the replay server. */
export async function recordAnswer(
  url: string,
  headers: Record<string, string>,
  body: Uint8Array,
): Promise<RecordedAnswer> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { ...headers, 'content-type': WIRE_CONTENT_TYPE },
    body: body as unknown as BodyInit,
  });
  if (!res.ok) throw new Error(`client-work sample offload answered HTTP ${res.status}: ${await res.text()}`);
  return {
    status: res.status,
    contentType: res.headers.get('content-type') ?? '',
    body: new Uint8Array(await res.arrayBuffer()),
  };
}

/** A client's transport and compressor, as its entry point sets them (client/node/index.ts, client-options.ts). */
export interface ClientStack {
  fetch: typeof fetch;
  deflate: Deflate;
}

/** The client stacks timed side by side, by name. */
export type ClientStacks = Record<string, ClientStack>;

/**
 * The client's work per offload with each client stack, measured alternately (one offload through each in turn), so a
 * drift in the machine's load falls on all alike. Keyed like `stacks`.
 */
export async function measureClientWork(
  manifest: ModelManifest,
  offload: SteadyOffload,
  url: string,
  /** Request headers, taken in turn (several API keys keep a long run under the edge's per-key rate limit). */
  headerSets: Record<string, string>[],
  n: number,
  stacks: ClientStacks,
  answer: Uint8Array,
): Promise<Record<string, ClientWork>> {
  const keeper = new PlanKeeper({
    sla: DEFAULT_SLA,
    resolver: new PlanResolver(undefined, true),
    edgeUrl: url,
    modelId: manifest.id,
    fetch: globalThis.fetch,
    refreshEvery: 10,
    deviceDrift: 0.3,
    timeoutMs: 5000,
    now: () => performance.now(),
  });
  const cpuMs = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1000;
  const samples = Object.fromEntries(
    Object.keys(stacks).map((k) => [
      k,
      { total: [] as number[], encode: [] as number[], check: [] as number[], profiler: [] as number[] },
    ]),
  );
  let sent = 0;
  for (let i = 0; i < n + 20; i++) {
    for (const [name, stack] of Object.entries(stacks)) {
      const c0 = process.cpuUsage();
      const { body, requestId } = offload.encode(stack.deflate);
      const encodeMs = cpuMs(process.cpuUsage(c0));
      const call = startOffload({
        url,
        body,
        requestId,
        classes: manifest.classes.length,
        exits: manifest.exits.length,
        fetch: stack.fetch,
        headers: headerSets[sent++ % headerSets.length]!,
        timeoutMs: 5000,
        now: () => performance.now(),
      });
      const outcome = await call.outcome;
      if (outcome.kind !== 'result')
        throw new Error(`client-work offload (${name}) failed: ${outcome.error}`);
      const c2 = process.cpuUsage();
      keeper.onResult(manifest, {
        split: offload.split,
        bodyBytes: body.byteLength,
        roundTripMs: outcome.roundTripMs,
        message: outcome.message,
      });
      const profilerMs = cpuMs(process.cpuUsage(c2));
      const totalMs = cpuMs(process.cpuUsage(c0));
      // The decode and check startOffload did inside the request, timed again on the same bytes, outside the total.
      const c4 = process.cpuUsage();
      decodeResult(answer);
      const checkMs = cpuMs(process.cpuUsage(c4));
      if (i < 20) continue; // warm-up
      const s = samples[name]!;
      s.total.push(totalMs);
      s.encode.push(encodeMs);
      s.check.push(checkMs);
      s.profiler.push(profilerMs);
    }
  }
  return Object.fromEntries(Object.entries(samples).map(([name, s]) => [name, summarise(s)]));
}

function summarise(s: {
  total: number[];
  encode: number[];
  check: number[];
  profiler: number[];
}): ClientWork {
  const own = s.total.map((_, i) => s.encode[i]! + s.check[i]! + s.profiler[i]!);
  const http = s.total.map((t, i) => Math.max(0, t - own[i]!));
  const p = (xs: number[], q: number) => quantile(xs, q);
  return {
    p50: p(s.total, 0.5),
    p95: p(s.total, 0.95),
    encodeP50: p(s.encode, 0.5),
    checkP50: p(s.check, 0.5),
    profilerP50: p(s.profiler, 0.5),
    ownP50: p(own, 0.5),
    ownP95: p(own, 0.95),
    httpP50: p(http, 0.5),
    httpP95: p(http, 0.95),
  };
}
