// A server-only offload (split 0) sent to an Open Inference Protocol v2 server (the REST API of NVIDIA Triton and
// KServe, and of SPINN's own backend under /v2) that holds the whole model: the validated model input becomes a v2
// JSON infer request, and the v2 answer becomes the ResultMessage a SPINN backend would have sent. The protocol has
// no early exits, queue times or cancels, so: the final exit answers unless the model entry says the server speaks
// SPINN's `threshold` parameter and `exit` output (earlyExit), serverMs is the edge's time for the whole call
// (network included: the protocol reports no compute time), and a cancel only closes the call.
// Protocol: https://kserve.github.io/website/docs/concepts/architecture/data-plane/v2-protocol

import type { ModelManifest } from '../core/manifest.js';
import { PROTOCOL_VERSION, type ResultMessage } from '../core/wire.js';
import type { BackendSpec, OipModelSpec } from './backends-config.js';
import { backendHeaders, fetchWithin, type InferOutcome } from './backend-client.js';
import type { WorkerConfig } from './env.js';

export interface OipCall {
  requestId: string;
  threshold: number;
  manifest: ModelManifest;
  /** The model input (preprocessed, FP32, the manifest's input shape with batch 1). */
  values: Float32Array;
}

interface V2Output {
  name?: unknown;
  datatype?: unknown;
  data?: unknown;
}

function inferPath(m: OipModelSpec): string {
  const version = m.version ? `/versions/${encodeURIComponent(m.version)}` : '';
  return `/v2/models/${encodeURIComponent(m.model)}${version}/infer`;
}

/** The v2 JSON infer request for one image. */
export function oipRequest(m: OipModelSpec, call: OipCall): Record<string, unknown> {
  const shape = call.manifest.input.shape.map((d, i) => (i === 0 ? 1 : d));
  return {
    id: call.requestId,
    ...(m.earlyExit ? { parameters: { threshold: call.threshold } } : {}),
    inputs: [
      {
        name: m.input ?? call.manifest.input.name,
        shape,
        datatype: 'FP32',
        data: Array.from(call.values),
      },
    ],
    outputs: [{ name: m.output }, ...(m.earlyExit ? [{ name: 'exit' }] : [])],
  };
}

function flatNumbers(data: unknown, what: string): number[] {
  const out: number[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) for (const x of v) walk(x);
    else if (typeof v === 'number' && Number.isFinite(v)) out.push(v);
    else throw new Error(`${what} holds ${JSON.stringify(v)}, not a finite number`);
  };
  walk(data);
  return out;
}

function softmax(xs: number[]): number[] {
  const max = Math.max(...xs);
  const e = xs.map((x) => Math.exp(x - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / sum);
}

/** The ResultMessage for a v2 answer; throws an Error saying what the answer lacks. */
export function resultFromOip(
  m: OipModelSpec,
  call: OipCall,
  json: unknown,
  elapsedMs: number,
): ResultMessage {
  const outputs = (json as { outputs?: unknown } | null)?.outputs;
  if (!Array.isArray(outputs)) throw new Error('the answer has no outputs array');
  const find = (name: string) => (outputs as V2Output[]).find((o) => o?.name === name);
  const scoresOut = find(m.output);
  if (!scoresOut) throw new Error(`the answer has no output ${JSON.stringify(m.output)}`);
  const classes = call.manifest.classes.length;
  let scores = flatNumbers(scoresOut.data, `output ${m.output}`);
  if (scores.length !== classes)
    throw new Error(`output ${m.output} has ${scores.length} values; the model has ${classes} classes`);
  if (m.softmax) scores = softmax(scores);
  const label = scores.indexOf(Math.max(...scores));
  const exits = call.manifest.exits;
  let exit = exits.length - 1;
  if (m.earlyExit) {
    const [e] = flatNumbers(find('exit')?.data ?? [], 'output exit');
    if (e === undefined || !Number.isInteger(e) || e < 0 || e >= exits.length)
      throw new Error(`output exit ${JSON.stringify(e ?? null)} is not an exit of ${call.manifest.id}`);
    exit = e;
  }
  return {
    v: PROTOCOL_VERSION,
    requestId: call.requestId,
    status: 'done',
    exit,
    label,
    confidence: Math.min(1, Math.max(0, scores[label]!)),
    serverMs: elapsedMs,
    queueMs: 0,
    blocksRun: exits[exit]!.afterBlock + 1,
  };
}

/** Runs a server-only request on an OIP server; every failure is an outcome, never an exception. */
export async function oipInfer(
  config: WorkerConfig,
  backend: BackendSpec,
  call: OipCall,
  signal: AbortSignal,
): Promise<InferOutcome> {
  const m = backend.models?.[call.manifest.id];
  if (!m)
    return {
      kind: 'bad-response',
      httpStatus: 0,
      error: `${backend.name} does not hold ${call.manifest.id}`,
    };
  const started = Date.now();
  const headers = backendHeaders(config, backend, {
    'content-type': 'application/json',
    accept: 'application/json',
  });
  const body = JSON.stringify(oipRequest(m, call));
  const got = await fetchWithin(
    backend,
    inferPath(m),
    { method: 'POST', headers, body },
    signal,
    config.backendTimeoutMs,
  );
  if ('kind' in got) return got;
  const text = new TextDecoder().decode(got.bytes);
  const status = got.res.status;
  if (status !== 200) {
    return {
      kind: 'bad-response',
      httpStatus: status,
      error: `OIP server ${backend.name} answered HTTP ${status}: ${text.slice(0, 500)}`,
    };
  }
  try {
    const result = resultFromOip(m, call, JSON.parse(text), Date.now() - started);
    return { kind: 'result', result, httpStatus: status };
  } catch (e) {
    return {
      kind: 'bad-response',
      httpStatus: status,
      error: `OIP server ${backend.name} answer unusable: ${(e as Error).message}`,
    };
  }
}
