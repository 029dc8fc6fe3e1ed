// bench:hop's client figures. The steady-state offload is built by the client's own code (client/offload-message.ts:
// the codec the client chooses for the split, no replan fields), and its size beyond the tensor and the model id is
// what the protocol costs per offload. The client's work per offload is the CPU time this process spends on one
// offload through the client's own functions — encode, the request (client/offload.ts: fetch, read, decode, check)
// and the profiler update (PlanKeeper.onResult) — measured with process.cpuUsage, so waiting on the network and the
// server is not counted while the HTTP stack's own work is.

import type { ModelManifest } from '../../core/manifest.js';
import { chooseCodec } from '../../core/codec-choice.js';
import { packMsgpack } from '../../core/msgpack.js';
import { DEFAULT_SLA } from '../../core/sla.js';
import { encodeMessage } from '../../core/wire.js';
import { encodeActivation, offloadMessage } from '../../client/offload-message.js';
import { startOffload } from '../../client/offload.js';
import { PlanKeeper } from '../../client/plan-keeper.js';
import { PlanResolver } from '../../client/plan-resolver.js';
import { newRequestId } from '../../client/request-id.js';
import { quantile } from './paths.js';

type Activation = { values: Float32Array; shape: number[] };

export interface SteadyOffload {
  /** A fresh body (new request id) each call. */
  body(): Uint8Array;
  codec: string;
  split: number;
  overheadBytes: number;
  /** The client's encode step: the activation with the codec, the message around it, msgpack. */
  encode(): { body: Uint8Array; requestId: string };
}

export function steadyStateOffload(manifest: ModelManifest, split: number, act: Activation): SteadyOffload {
  const threshold = 1;
  const codec = chooseCodec({ manifest, split, threshold }).codec;
  const encode = () => {
    const requestId = newRequestId();
    const body = encodeMessage(
      offloadMessage({
        requestId,
        modelId: manifest.id,
        plan: { split, threshold, codec },
        tensor: encodeActivation(codec, act, undefined),
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

export async function measureClientWork(
  manifest: ModelManifest,
  offload: SteadyOffload,
  url: string,
  headers: Record<string, string>,
  n: number,
): Promise<{ p50: number; p95: number; encodeP50: number; decodeP50: number }> {
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
  const total: number[] = [];
  const encode: number[] = [];
  const decode: number[] = [];
  for (let i = 0; i < n + 20; i++) {
    const c0 = process.cpuUsage();
    const { body, requestId } = offload.encode();
    const encodeMs = cpuMs(process.cpuUsage(c0));
    const call = startOffload({
      url,
      body,
      requestId,
      classes: manifest.classes.length,
      exits: manifest.exits.length,
      fetch: globalThis.fetch,
      headers,
      timeoutMs: 5000,
      now: () => performance.now(),
    });
    const outcome = await call.outcome;
    if (outcome.kind !== 'result') throw new Error(`client-work offload failed: ${outcome.error}`);
    const c2 = process.cpuUsage();
    keeper.onResult(manifest, {
      split: offload.split,
      bodyBytes: body.byteLength,
      roundTripMs: outcome.roundTripMs,
      message: outcome.message,
    });
    const c3 = process.cpuUsage(c2);
    if (i < 20) continue; // warm-up
    encode.push(encodeMs);
    decode.push(cpuMs(c3));
    total.push(cpuMs(process.cpuUsage(c0)));
  }
  return {
    p50: quantile(total, 0.5),
    p95: quantile(total, 0.95),
    encodeP50: quantile(encode, 0.5),
    decodeP50: quantile(decode, 0.5),
  };
}
