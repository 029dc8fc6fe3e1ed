// The lifecycle record of one request id, as the RequestState Durable Object stores it and GET /v1/requests/:id
// shows it: status, when each transition happened, the plan the client used and the result fields. Pure data and
// helpers so the Durable Object class stays a thin shell around storage and the backend call.

import { PROTOCOL_VERSION, type ResultMessage, type ResultStatus } from '../core/wire.js';
import type { BackendCancelAnswer, BackendRef } from './backend-client.js';

export type LifecycleStatus = 'pending' | 'running' | ResultStatus;

export const FINAL_STATUSES: readonly LifecycleStatus[] = ['done', 'cancelled', 'failed'];

export interface ResultFields {
  exit: number | null;
  label: number | null;
  confidence: number | null;
  serverMs: number;
  queueMs: number;
  blocksRun: number;
}

export interface RequestRecord {
  requestId: string;
  /** Name of the API key that first used the id (worker/auth.ts); only it may read, cancel or offload it. */
  owner: string;
  status: LifecycleStatus;
  /** Epoch ms of each transition this request went through (the edge's clock). */
  timestamps: Partial<Record<LifecycleStatus, number>>;
  /** Set once an offload reached the edge; null for a request only ever cancelled. */
  modelId: string | null;
  split: number | null;
  threshold: number | null;
  /** True when the cancel arrived before any offload, so the later offload is answered `cancelled`. */
  cancelledBeforeOffload: boolean;
  result: ResultFields | null;
  /** Why the request failed (backend unreachable, timeout, backend error). */
  error: string | null;
  /** What the backend said to our cancel, kept so repeated cancels give the same answer. */
  backendCancel: BackendCancelAnswer | null;
  /** The backend that holds (or last held) the request, so a cancel reaches it; null before one was chosen. */
  backend: BackendRef | null;
}

/** The record as its owner sees it: the backend by name only (its URL is the operator's business). */
export type PublicRecord = Omit<RequestRecord, 'owner' | 'backend'> & { backend: string | null };

export function newRecord(requestId: string, owner: string): RequestRecord {
  return {
    requestId,
    owner,
    status: 'pending',
    timestamps: {},
    modelId: null,
    split: null,
    threshold: null,
    cancelledBeforeOffload: false,
    result: null,
    error: null,
    backendCancel: null,
    backend: null,
  };
}

/** Longest text a record keeps (errors, the backend's cancel answer), so a record's size has a bound. */
export const MAX_RECORD_TEXT = 2000;

/** Caps the record's free-text fields in place: what the backend says is stored, however long it was. */
export function boundRecord(record: RequestRecord): RequestRecord {
  if (record.error && record.error.length > MAX_RECORD_TEXT)
    record.error = record.error.slice(0, MAX_RECORD_TEXT);
  const cancel = record.backendCancel;
  if (cancel?.error && cancel.error.length > MAX_RECORD_TEXT)
    cancel.error = cancel.error.slice(0, MAX_RECORD_TEXT);
  if (cancel && cancel.body !== undefined) {
    const text = typeof cancel.body === 'string' ? cancel.body : JSON.stringify(cancel.body);
    if (text.length > MAX_RECORD_TEXT) cancel.body = text.slice(0, MAX_RECORD_TEXT);
  }
  return record;
}

/** The record as GET /v1/requests/:id shows it to its owner. */
export function publicRecord(record: RequestRecord): PublicRecord {
  const { owner: _owner, backend, ...rest } = record;
  return { ...rest, backend: backend?.name ?? null };
}

export function transition(record: RequestRecord, status: LifecycleStatus, at = Date.now()): void {
  record.status = status;
  record.timestamps[status] = at;
}

export function isFinal(status: LifecycleStatus): boolean {
  return FINAL_STATUSES.includes(status);
}

/** The result fields of a request without an answer. */
export const EMPTY_FIELDS: ResultFields = {
  exit: null,
  label: null,
  confidence: null,
  serverMs: 0,
  queueMs: 0,
  blocksRun: 0,
};

export function resultFields(r: ResultMessage): ResultFields {
  return {
    exit: r.exit,
    label: r.label,
    confidence: r.confidence,
    serverMs: r.serverMs,
    queueMs: r.queueMs,
    blocksRun: r.blocksRun,
  };
}

/** A wire result for a final record (the plan is added by the route). */
export function resultMessageOf(record: RequestRecord): ResultMessage {
  const status: ResultStatus = isFinal(record.status) ? (record.status as ResultStatus) : 'failed';
  const msg: ResultMessage = {
    v: PROTOCOL_VERSION,
    requestId: record.requestId,
    status,
    ...(status === 'done'
      ? (record.result ?? EMPTY_FIELDS)
      : { ...EMPTY_FIELDS, ...pickTimes(record.result) }),
  };
  if (record.error) msg.error = record.error.slice(0, MAX_RECORD_TEXT);
  return msg;
}

/** A cancelled or failed result keeps the backend's cost numbers but never an answer. */
export function pickTimes(f: ResultFields | null): Partial<ResultFields> {
  return f ? { serverMs: f.serverMs, queueMs: f.queueMs, blocksRun: f.blocksRun } : {};
}
