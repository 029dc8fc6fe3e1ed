// The RequestState Durable Object: one instance per request id, the single truth for that request's lifecycle.
// It serialises offload and cancel for the id (a cancel that arrives first wins; a second offload is refused),
// makes the backend call with an AbortController so a cancel can stop it, and keeps the record in durable storage
// (surviving eviction) until an alarm deletes it: REQUEST_RETENTION_MS (an hour) after an offload first reached it,
// or CANCEL_TOMBSTONE_MS (a minute) after a cancel for an id no offload has claimed, so random cancels leave nothing
// behind for long. The id belongs to the API key that first used it: any other key is told it does not exist.
// A record's size is bounded (boundRecord), so storage per request is too. Which backend of the fleet takes the
// offload is the router's choice (offload-router.ts); the record keeps the one that holds the request, so a cancel
// or the stop of a timed-out call reaches that backend.

import { DurableObject } from 'cloudflare:workers';
import type { BackendLoad } from '../core/scheduler-context.js';
import type { ResultMessage } from '../core/wire.js';
import { backendCancel, type BackendCancelAnswer } from './backend-client.js';
import { readConfig, type Env } from './env.js';
import { routeOffload } from './offload-router.js';
import {
  boundRecord,
  isFinal,
  newRecord,
  type PublicRecord,
  publicRecord,
  resultFields,
  resultMessageOf,
  transition,
  type RequestRecord,
} from './request-record.js';

const KEY = 'record';

export interface OffloadInput {
  requestId: string;
  /** The caller's key name (worker/auth.ts). */
  owner: string;
  modelId: string;
  split: number;
  threshold: number;
  /** The validated offload, re-encoded by the edge; forwarded to the backend as is. */
  body: Uint8Array;
}

export type OffloadReply =
  | {
      kind: 'result';
      httpStatus: 200 | 502 | 504;
      result: ResultMessage;
      /** The backend's load when it answered (for the edge's scheduler); absent without a backend answer. */
      load?: BackendLoad;
    }
  | { kind: 'conflict'; error: string };

export interface CancelReply {
  requestId: string;
  status: RequestRecord['status'];
  cancelledBeforeOffload: boolean;
  backend: BackendCancelAnswer;
}

export class RequestState extends DurableObject<Env> {
  private record: RequestRecord | null = null;
  private inflight: AbortController | null = null;
  /** The backend cancel call of the first DELETE, so concurrent repeats answer with its result. */
  private cancelling: Promise<BackendCancelAnswer> | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    void ctx.blockConcurrencyWhile(async (): Promise<void> => {
      const record = (await ctx.storage.get<RequestRecord>(KEY)) ?? null;
      if (record && !isFinal(record.status)) {
        // The isolate that made the backend call is gone, and its fetch with it: the call can no longer answer.
        record.error = 'the edge restarted while the backend call was in flight';
        transition(record, 'failed');
        await ctx.storage.put(KEY, record);
      }
      this.record = record;
    });
  }

  /** The stored record, or null for an id this object never saw or that `owner` does not own (nothing is written). */
  async snapshot(owner: string): Promise<PublicRecord | null> {
    return this.record?.owner === owner ? publicRecord(this.record) : null;
  }

  async offload(input: OffloadInput): Promise<OffloadReply> {
    const config = readConfig(this.env);
    let record = this.record;
    if (record?.cancelledBeforeOffload && record.modelId === null && record.owner === input.owner) {
      // The cancel got here first: answer `cancelled` and never contact the backend. The id is a request now, kept
      // as long as any other.
      Object.assign(record, { modelId: input.modelId, split: input.split, threshold: input.threshold });
      await this.save(record, { keepForMs: config.requestRetentionMs });
      return { kind: 'result', httpStatus: 200, result: resultMessageOf(record) };
    }
    if (record) {
      // Reused, or used by another key: the same answer either way, so the owner of an id stays private.
      return {
        kind: 'conflict',
        error: `request ${input.requestId} was already used; request ids are single-use`,
      };
    }
    record = newRecord(input.requestId, input.owner);
    Object.assign(record, { modelId: input.modelId, split: input.split, threshold: input.threshold });
    transition(record, 'pending');
    transition(record, 'running');
    this.record = record;
    const controller = new AbortController();
    this.inflight = controller;
    // Start the backend call before persisting `running`: a Durable Object holds outgoing requests made after a
    // write until that write is durable (output gate), which put ~15 ms of local storage flush on every request.
    const pending = routeOffload(this.env, config, input, controller.signal, {
      onDispatch: (b) => void (record.backend = { name: b.name, url: b.url, kind: b.kind }),
      waitUntil: (work) => this.ctx.waitUntil(work),
    });
    await this.save(record, { confirmed: false, keepForMs: config.requestRetentionMs });

    const { outcome } = await pending;
    this.inflight = null;
    const load = outcome.kind === 'result' && outcome.result.load ? { load: outcome.result.load } : {};
    if (record.status === 'cancelled') {
      // A cancel arrived while the backend worked; it wins whatever the backend said.
      if (outcome.kind === 'result') record.result = resultFields(outcome.result);
      await this.save(record);
      return { kind: 'result', httpStatus: 200, result: resultMessageOf(record), ...load };
    }
    let httpStatus: 200 | 502 | 504 = 200;
    switch (outcome.kind) {
      case 'result':
        record.result = resultFields(outcome.result);
        if (outcome.result.error) record.error = outcome.result.error;
        transition(record, outcome.result.status);
        if (outcome.result.status === 'failed') {
          httpStatus = 502;
          record.error ??= `backend failed the request (HTTP ${outcome.httpStatus})`;
        }
        break;
      case 'timeout':
        httpStatus = 504;
        record.error = outcome.error;
        transition(record, 'failed');
        // Our fetch is gone, but the backend may still be computing an answer nobody will read: stop it.
        this.cancelAbandoned(record);
        break;
      case 'unreachable':
      case 'bad-response':
        httpStatus = 502;
        record.error = outcome.error;
        transition(record, 'failed');
        break;
      case 'aborted':
        // Only a cancel aborts, and a cancel sets `cancelled` first; reaching here means storage was reset.
        record.error = 'backend call aborted';
        transition(record, 'failed');
        httpStatus = 502;
        break;
    }
    // The answer need not wait for this write to be durable: the client gets the same result either way, and a
    // lost write only shortens the record's history. Cancel records, which decide later behaviour, stay confirmed.
    await this.save(record, { confirmed: false });
    return { kind: 'result', httpStatus, result: resultMessageOf(record), ...load };
  }

  /** Cancels the request; null when the id belongs to another key (the route answers 404, and nothing changes). */
  async cancel(requestId: string, owner: string): Promise<CancelReply | null> {
    let record = this.record;
    if (record && record.owner !== owner) return null;
    if (record && isFinal(record.status)) {
      // Idempotent: the request already ended (or was cancelled); report the same final state again.
      const backend = this.cancelling
        ? await this.cancelling
        : (record.backendCancel ?? {
            ok: true,
            skipped: `request already ${record.status}; nothing to cancel`,
          });
      return this.cancelReply(record, backend);
    }
    if (!record) {
      // Remembered only for CANCEL_TOMBSTONE_MS: long enough for the offload it overtook (whose body must arrive
      // within BODY_TIMEOUT_MS), short enough that cancels of random ids leave nothing behind.
      record = newRecord(requestId, owner);
      record.cancelledBeforeOffload = true;
      transition(record, 'cancelled');
      record.backendCancel = {
        ok: true,
        skipped: 'no offload reached the edge yet; the backend was not involved',
      };
      this.record = record;
      await this.save(record, { keepForMs: readConfig(this.env).cancelTombstoneMs });
      return this.cancelReply(record, record.backendCancel);
    }
    // pending or running: stop our fetch now, then tell the backend to stop computing.
    transition(record, 'cancelled');
    this.inflight?.abort();
    this.inflight = null;
    this.cancelling = this.cancelOnBackend(record);
    try {
      await this.save(record);
      record.backendCancel = await this.cancelling;
      await this.save(record);
    } finally {
      this.cancelling = null;
    }
    return this.cancelReply(record, record.backendCancel);
  }

  /**
   * What this id keeps in durable storage: stored keys and the SQLite database's size in bytes (what Cloudflare
   * bills). Not on the HTTP API; tests and operators call it through the binding to measure retention.
   */
  async footprint(): Promise<{ keys: number; bytes: number }> {
    const keys = (await this.ctx.storage.list()).size;
    return { keys, bytes: this.ctx.storage.sql.databaseSize };
  }

  override async alarm(): Promise<void> {
    this.inflight?.abort();
    this.inflight = null;
    this.record = null;
    await this.ctx.storage.deleteAll();
  }

  /** Tells the backend to stop a request whose answer we gave up on; its reply is kept in the record. */
  private cancelAbandoned(record: RequestRecord): void {
    const done = this.cancelOnBackend(record).then(async (answer) => {
      record.backendCancel = answer;
      await this.save(record, { confirmed: false });
    });
    this.ctx.waitUntil(done);
  }

  /** Asks the backend that holds the request to stop it. */
  private cancelOnBackend(record: RequestRecord): Promise<BackendCancelAnswer> {
    if (!record.backend)
      return Promise.resolve({ ok: true, skipped: 'no backend was holding the request; nothing to stop' });
    return backendCancel(readConfig(this.env), record.backend, record.requestId);
  }

  private cancelReply(record: RequestRecord, backend: BackendCancelAnswer): CancelReply {
    return {
      requestId: record.requestId,
      status: record.status,
      cancelledBeforeOffload: record.cancelledBeforeOffload,
      backend,
    };
  }

  /**
   * Persists the record (its text fields capped). `confirmed: false` lets replies leave before the write is durable
   * (the DO's output gate would otherwise hold them for the flush); use it only where losing the write cannot change
   * what a later call does. `keepForMs` (re)sets the alarm that deletes everything this object stores.
   */
  private async save(
    record: RequestRecord,
    opts: { confirmed?: boolean; keepForMs?: number } = {},
  ): Promise<void> {
    // The alarm deleted this request while a call was still running: do not resurrect it.
    if (this.record !== record) return;
    const allowUnconfirmed = opts.confirmed === false;
    await this.ctx.storage.put(KEY, boundRecord(record), { allowUnconfirmed });
    if (opts.keepForMs !== undefined) {
      await this.ctx.storage.setAlarm(Date.now() + opts.keepForMs, { allowUnconfirmed });
    }
  }
}
