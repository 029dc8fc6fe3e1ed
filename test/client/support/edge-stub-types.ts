// Behaviour switches and records of the edge stand-in, shared by the stub process (edge-stub-server.ts) and its
// driver (edge-stub.ts) without the driver importing the server module (which starts a server when loaded).

import type { Plan, ResultMessage } from '../../../core/wire.js';

export type InferMode =
  /** Compute, wait `delayMs`, answer `done`. */
  | 'ok'
  /** Answer HTTP 500 with a text body. */
  | 'http-500'
  /** Compute, then answer a msgpack result with status `failed`. */
  | 'status-failed'
  /** Never answer (until a DELETE for the request arrives, which answers it `cancelled`). */
  | 'hang'
  /** Destroy the connection without answering. */
  | 'reset';

export interface StubControl {
  mode: InferMode;
  delayMs: number;
  /** Plan to put in results (`result.plan`). */
  nextPlan: Plan | null;
  /** When set, this model file is served with one byte flipped (hash mismatch). */
  corruptFile: string | null;
}

export interface StubRecords {
  offloads: {
    requestId: string;
    modelId: string;
    split: number;
    threshold: number;
    shape: number[];
    dataBytes: number;
    /** Size of the whole msgpack body. */
    bytes: number;
  }[];
  deletes: string[];
  /** Request ids whose /v1/infer connection closed before the stub answered. */
  aborted: string[];
  /** Model file paths served (manifest excluded). */
  fileGets: string[];
  results: ResultMessage[];
}

export const DEFAULT_CONTROL: StubControl = { mode: 'ok', delayMs: 0, nextPlan: null, corruptFile: null };
