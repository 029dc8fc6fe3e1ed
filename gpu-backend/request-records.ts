// A bounded, least-recently-used store of what happened to recent requests, served by GET /requests/:id. It is
// how operators (and the tests) see a request's lifecycle after the fact: whether and when it was cancelled, how
// many blocks it ran at the cancel and in the end, and where its time went.

import type { ResultStatus } from '../core/wire.js';

export type CancelState =
  'cancelled-running' | 'cancelled-queued' | 'cancelled-before-arrival' | 'already-finished';

export interface RequestRecord {
  requestId: string;
  modelId: string;
  /** queued/running while in flight, then the result status. */
  status: 'queued' | 'running' | ResultStatus;
  split: number;
  threshold: number;
  /** Blocks run so far (live while running), then in total. */
  blocksRun: number;
  exit: number | null;
  label: number | null;
  confidence: number | null;
  /** Wall clock (ms since epoch) when the body was accepted. */
  receivedAt: number;
  /** Waiting for a free worker, compute (blocks + exits), and accept-to-answer, ms. */
  queueMs: number | null;
  serverMs: number | null;
  totalMs: number | null;
  /** Requests dispatched together in its batch (1: it ran alone; null until it ran). */
  batchSize: number | null;
  cancelled: boolean;
  /** How the first cancel found the request. */
  cancelState: CancelState | null;
  /** Blocks the worker had finished when the cancel arrived (running requests only). */
  blocksRunAtCancel: number | null;
  /** Milliseconds after receivedAt the cancel arrived. */
  cancelAfterMs: number | null;
  error: string | null;
}

export class RequestRecords {
  private readonly map = new Map<string, RequestRecord>();

  constructor(private readonly max: number) {}

  get(requestId: string): RequestRecord | undefined {
    const r = this.map.get(requestId);
    if (r) {
      this.map.delete(requestId);
      this.map.set(requestId, r);
    }
    return r;
  }

  /** Inserts or replaces a record; evicts the least recently used beyond the bound. */
  put(record: RequestRecord): RequestRecord {
    this.map.delete(record.requestId);
    this.map.set(record.requestId, record);
    while (this.map.size > this.max) this.map.delete(this.map.keys().next().value as string);
    return record;
  }

  get size(): number {
    return this.map.size;
  }
}
