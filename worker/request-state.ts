// The RequestState Durable Object: one instance per request id, the single truth for that request's lifecycle.
// It decides who may use the id (a cancel that arrives first wins; a second offload is refused; the id belongs to
// the API key that first used it, any other key is told it does not exist) and keeps the record in durable storage
// (surviving eviction) until an alarm deletes it: REQUEST_RETENTION_MS (an hour) after an offload first reached it,
// or CANCEL_TOMBSTONE_MS (a minute) after a cancel for an id no offload has claimed.
// It is NOT on the offload's critical path: the route (worker/offload-flow.ts) calls the backend itself and, beside
// that call, claims the id here and waits here for a cancel (`untilCancelled`); the backend's answer is recorded
// after the client has it (`finish`). A record's size is bounded (boundRecord), so storage per request is too.
// Which backend of the fleet takes the offload is the router's choice (offload-router.ts, called by the route); the
// record keeps the one that holds the request (`claim`, then `dispatched` on a failover), so a cancel reaches it.

import { DurableObject } from 'cloudflare:workers';
import type { ResultMessage, ResultStatus } from '../core/wire.js';
import { backendCancel, type BackendCancelAnswer, type BackendRef } from './backend-client.js';
import { readConfig, type Env, type WorkerConfig } from './env.js';
import {
  boundRecord,
  isFinal,
  newRecord,
  publicRecord,
  type PublicRecord,
  resultMessageOf,
  transition,
  type RequestRecord,
  type ResultFields,
} from './request-record.js';

const KEY = 'record';
/** Beyond BACKEND_TIMEOUT_MS, how long a `running` record waits for its route before it reads `failed`. */
const LOST_CALL_GRACE_MS = 10_000;
/** How long a cancel waits for the woken route to say its backend fetch is aborted before telling the backend. */
const ROUTE_ACK_TIMEOUT_MS = 1_000;

/** `p`, or nothing after `ms`. */
function boundedWait(p: Promise<void>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    void p.then(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

export interface ClaimInput {
  requestId: string;
  /** The caller's key name (worker/auth.ts). */
  owner: string;
  modelId: string;
  split: number;
  threshold: number;
  /** The backend the router sent the offload to; null when the fleet had none to try. */
  backend: BackendRef | null;
}

export type ClaimReply =
  /** The id is this offload's: the record says `running`, durably. */
  | { kind: 'claimed' }
  /** A cancel got here first: the offload is answered with this `cancelled` result. */
  | { kind: 'cancelled'; result: ResultMessage }
  /** Reused, or used by another key. */
  | { kind: 'conflict'; error: string };

/** How the route's backend call ended, for the record. */
export interface FinishInput {
  status: ResultStatus;
  result: ResultFields | null;
  error?: string;
  /** Set when the route gave up on the backend (timeout) and asked it to stop. */
  backendCancel?: BackendCancelAnswer;
}

export interface CancelReply {
  requestId: string;
  status: RequestRecord['status'];
  cancelledBeforeOffload: boolean;
  backend: BackendCancelAnswer;
}

/**
 * Asks the backend that holds the request to stop it. A cancel that came before its offload tells every SPINN
 * backend (the route sends that offload beside its claim, to whichever backend the router picks, and each backend
 * refuses an id it has seen cancelled); the first failure, or else the first answer, is the reply.
 */
async function cancelOnBackends(config: WorkerConfig, record: RequestRecord): Promise<BackendCancelAnswer> {
  if (record.backend) return backendCancel(config, record.backend, record.requestId);
  const spinn = record.cancelledBeforeOffload ? config.backends.filter((b) => b.kind === 'spinn') : [];
  if (!spinn.length) return { ok: true, skipped: 'no backend was holding the request; nothing to stop' };
  const answers = await Promise.all(spinn.map((b) => backendCancel(config, b, record.requestId)));
  return answers.find((a) => !a.ok) ?? answers[0]!;
}

export class RequestState extends DurableObject<Env> {
  private record: RequestRecord | null = null;
  /** Resolves the route's `untilCancelled` wait: with `cancelled` on a cancel, `settled` once the call ended. */
  private wake: ((why: 'cancelled' | 'settled') => void) | null = null;
  private woken: Promise<'cancelled' | 'settled'> | null = null;
  /** Resolved by the route once it aborted its backend fetch after a cancel woke it (`backendCallAborted`). */
  private routeAborted: (() => void) | null = null;
  /** The backend cancel call of the first DELETE, so concurrent repeats answer with its result. */
  private cancelling: Promise<BackendCancelAnswer> | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    void ctx.blockConcurrencyWhile(async (): Promise<void> => {
      const record = (await ctx.storage.get<RequestRecord>(KEY)) ?? null;
      if (record && !isFinal(record.status)) {
        // The edge restarted while the backend call was in flight: the call can no longer answer.
        record.error = 'the edge restarted while the backend call was in flight';
        transition(record, 'failed');
        await ctx.storage.put(KEY, record);
      }
      this.record = record;
    });
  }

  /** The stored record, or null for an id this object never saw or that `owner` does not own (nothing is written). */
  async snapshot(owner: string): Promise<PublicRecord | null> {
    if (this.record?.owner !== owner) return null;
    this.failLostCall(this.record);
    return publicRecord(this.record);
  }

  /**
   * Claims the id for an offload whose backend call the route starts beside this call.
   */
  async claim(input: ClaimInput): Promise<ClaimReply> {
    const config = readConfig(this.env);
    let record = this.record;
    if (record?.cancelledBeforeOffload && record.modelId === null && record.owner === input.owner) {
      // The cancel got here first: answer `cancelled`; the backend was told by that cancel and refuses the offload.
      // The id is a request now, kept as long as any other.
      Object.assign(record, { modelId: input.modelId, split: input.split, threshold: input.threshold });
      await this.save(record, { keepForMs: config.requestRetentionMs });
      return { kind: 'cancelled', result: resultMessageOf(record) };
    }
    if (record) {
      // Reused, or used by another key: the same answer either way, so the owner of an id stays private.
      return {
        kind: 'conflict',
        error: `request ${input.requestId} was already used; request ids are single-use`,
      };
    }
    record = newRecord(input.requestId, input.owner);
    const { modelId, split, threshold, backend } = input;
    Object.assign(record, { modelId, split, threshold, backend });
    transition(record, 'pending');
    transition(record, 'running');
    this.record = record;
    this.woken = new Promise((resolve) => (this.wake = resolve));
    // Unconfirmed: a confirmed write holds the reply for the storage flush (~15 ms locally, longer than the backend
    // call). The record is in this object's memory at once, so every later claim or cancel sees it; only a crash of
    // this object's machine within the flush could lose it, and then the backend's own records still refuse the
    // id's reuse while it is in flight.
    await this.save(record, { confirmed: false, keepForMs: config.requestRetentionMs });
    return { kind: 'claimed' };
  }

  /** The router failed over to another backend: a cancel from now on goes there. */
  async dispatched(backend: BackendRef): Promise<void> {
    const record = this.record;
    if (record?.status !== 'running') return;
    record.backend = backend;
    await this.save(record, { confirmed: false });
  }

  /** Resolves `cancelled` as soon as a cancel arrives for the claimed call, `settled` once it ended otherwise. */
  async untilCancelled(): Promise<'cancelled' | 'settled'> {
    if (this.record?.status === 'cancelled') return 'cancelled';
    return this.woken ?? 'settled';
  }

  /**
   * Records how the route's backend call ended; a cancel that came first keeps the record `cancelled` (with the
   * backend's numbers). A later call with `backendCancel` only adds what the backend said to the edge's cancel.
   */
  async finish(f: FinishInput): Promise<void> {
    const record = this.record;
    if (!record) return;
    if (record.status === 'running') {
      record.result = f.result;
      if (f.error) record.error = f.error;
      transition(record, f.status);
      this.wake?.('settled');
    } else if (record.status === 'cancelled' && f.result) {
      record.result = f.result;
    }
    if (f.backendCancel) record.backendCancel = f.backendCancel;
    // Nobody waits for this write: the client already has its answer, and a lost write only shortens the record's
    // history (a restart reads the call as failed). Cancel records, which decide later behaviour, stay confirmed.
    await this.save(record, { confirmed: false });
  }

  /** Cancels the request; null when the id belongs to another key (the route answers 404, and nothing changes). */
  async cancel(requestId: string, owner: string): Promise<CancelReply | null> {
    let record = this.record;
    if (record && record.owner !== owner) return null;
    if (record) this.failLostCall(record);
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
      // within BODY_TIMEOUT_MS), short enough that cancels of random ids leave nothing behind. The backend is told
      // too: the route sends an offload to the backend beside its claim here, and the backend refuses an id it has
      // seen cancelled, so the overtaken offload costs no compute.
      record = newRecord(requestId, owner);
      record.cancelledBeforeOffload = true;
      transition(record, 'cancelled');
      this.record = record;
      return this.cancelAtBackend(record, readConfig(this.env).cancelTombstoneMs);
    }
    // Running: wake the route (it aborts its backend fetch at once and answers `cancelled`), then tell the backend
    // to stop computing — after the route said its fetch is aborted (or a bound passed: the route may be gone), so
    // the backend sees the call dropped before it hears the cancel, as when the object made the call itself.
    transition(record, 'cancelled');
    const aborted = new Promise<void>((resolve) => (this.routeAborted = resolve));
    this.wake?.('cancelled');
    return this.cancelAtBackend(record, undefined, boundedWait(aborted, ROUTE_ACK_TIMEOUT_MS));
  }

  /** The route aborted its backend fetch after a cancel woke it. */
  async backendCallAborted(): Promise<void> {
    this.routeAborted?.();
  }

  /** Tells the backend (after `first`, when given); concurrent and later cancels answer with what it said. */
  private async cancelAtBackend(
    record: RequestRecord,
    keepForMs?: number,
    first?: Promise<void>,
  ): Promise<CancelReply> {
    const config = readConfig(this.env);
    this.cancelling = (first ?? Promise.resolve()).then(() => cancelOnBackends(config, record));
    try {
      await this.save(record, keepForMs !== undefined ? { keepForMs } : {});
      record.backendCancel = await this.cancelling;
      await this.save(record);
    } finally {
      this.cancelling = null;
    }
    return this.cancelReply(record, record.backendCancel);
  }

  /**
   * A call still `running` long after the backend's deadline lost its route (that isolate went away without a
   * restart of this object): it can no longer answer, so the record says `failed`.
   */
  private failLostCall(record: RequestRecord): void {
    const started = record.timestamps.running;
    const deadline = readConfig(this.env).backendTimeoutMs + LOST_CALL_GRACE_MS;
    if (record.status !== 'running' || started === undefined || Date.now() - started < deadline) return;
    record.error = 'the edge lost the backend call (no answer recorded within the backend timeout)';
    transition(record, 'failed');
    this.wake?.('settled');
    void this.save(record, { confirmed: false });
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
    this.wake?.('settled');
    this.record = null;
    await this.ctx.storage.deleteAll();
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
