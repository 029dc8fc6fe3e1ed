// Helpers for worker tests: build offloads for the fixture model, post them, decode answers.

import { randomUUID } from 'node:crypto';
import { encodeTensor } from '../../core/tensor-codec.js';
import {
  PROTOCOL_VERSION,
  WIRE_CONTENT_TYPE,
  decodeResult,
  encodeMessage,
  type OffloadMessage,
  type ResultMessage,
} from '../../core/wire.js';
import { FIXTURE_MODEL_ID } from './fixture-model.js';

export const SPLIT_SHAPES: Record<number, number[]> = { 0: [1, 1, 4, 4], 1: [1, 2, 4, 4], 2: [1, 4, 2, 2] };

export function newRequestId(): string {
  return `req-${randomUUID()}`;
}

export function offload(over: Partial<OffloadMessage> = {}): OffloadMessage {
  const split = over.split ?? 1;
  const shape = SPLIT_SHAPES[split] ?? [1, 1];
  const n = shape.reduce((a, b) => a * b, 1);
  return {
    v: PROTOCOL_VERSION,
    requestId: newRequestId(),
    modelId: FIXTURE_MODEL_ID,
    split,
    threshold: 0.8,
    tensor: encodeTensor(new Float32Array(n).fill(0.5), shape, { scheme: 'fp32' }),
    context: { deviceMs: 12 },
    ...over,
  };
}

/** API key headers of the workers this process started (test/support/start-worker.ts), by base URL. */
const authByBase = new Map<string, Record<string, string>>();

/** Makes `postOffload` present `auth` to the worker at `base` (start-worker does it for every worker it starts). */
export function rememberAuth(base: string, auth: Record<string, string>): void {
  authByBase.set(base, auth);
}

/**
 * POSTs an offload to the worker at `base`, with that worker's API key when this process started it; `headers`
 * win, so a test can send a wrong key or `authorization: ''` to send none.
 */
export function postOffload(
  base: string,
  body: OffloadMessage | Uint8Array,
  headers: Record<string, string> = {},
) {
  return fetch(`${base}/v1/infer`, {
    method: 'POST',
    headers: { 'content-type': WIRE_CONTENT_TYPE, ...authByBase.get(base), ...headers },
    body: (body instanceof Uint8Array ? body : encodeMessage(body)) as Uint8Array<ArrayBuffer>,
  });
}

export async function readResult(res: Response): Promise<ResultMessage> {
  if (!(res.headers.get('content-type') ?? '').startsWith(WIRE_CONTENT_TYPE)) {
    throw new Error(
      `expected msgpack, got HTTP ${res.status} ${res.headers.get('content-type')}: ${await res.text()}`,
    );
  }
  return decodeResult(new Uint8Array(await res.arrayBuffer()));
}
