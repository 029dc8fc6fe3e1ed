// The RequestShard Durable Object: the single truth for the lifecycle of every request id of its shard
// (worker/request-shard.ts picks the shard). It decides who may use an id (a cancel that arrives first wins; a second
// offload is refused; the id belongs to the API key that first used it, any other key is told it does not exist) and
// keeps each record in durable storage (surviving eviction and restarts) until it expires: REQUEST_RETENTION_MS (an
// hour) after an offload first reached it, or CANCEL_TOMBSTONE_MS (a minute) after a cancel for an id no offload has
// claimed. One alarm per object, set to the earliest expiry, deletes what is due (the expiry index is sorted).
// It is NOT on the offload's critical path: the route (worker/offload-flow.ts) calls the backend itself and, beside
// that call, claims the id here (naming the backend the router chose; `dispatched` on a failover, so a cancel reaches
// the backend that holds the request) and hands over a callback that a cancel calls (`claim`'s `cancelRoute`); the
// backend's answer is recorded after the client has it (`finish`: in memory at once, so the next read sees it, and
// written on the next turn). A record's size is bounded (boundRecord), so storage per request is.
//
// Storage (the KV API of a SQLite-backed object; keys sort as strings):
//   r:<id>                 { record, expiresAt }     the record
//   x:<expiresAt>:<id>     1                         the expiry index (15-digit epoch ms, so the order is time's)
//   n:<id>                 1                         present while the record says `running` (the restart rule)

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

/** Beyond BACKEND_TIMEOUT_MS, how long a `running` record waits for its route before it reads `failed`. */
const LOST_CALL_GRACE_MS = 10_000;
/** How long a cancel waits for the woken route to say its backend fetch is aborted before telling the backend. */
const ROUTE_ACK_TIMEOUT_MS = 1_000;
/** Expired records deleted per storage round trip by the alarm (the KV API deletes at most 128 keys a call). */
const EXPIRY_BATCH = 40;
/**
 * How long a finished call's record waits in memory before it is written (`finish`). Zero still means "after the
 * current turn": the write then runs once the route's answer has left this thread, instead of as it leaves.
 */
const FINISH_WRITE_DELAY_MS = 0;

interface Stored {
  record: RequestRecord;
  /** Epoch ms after which the alarm deletes the record. */
  expiresAt: number;
}

const recordKey = (id: string) => `r:${id}`;
const runningKey = (id: string) => `n:${id}`;
const expiryKey = (at: number, id: string) => `x:${String(at).padStart(15, '0')}:${id}`;
/** The id and time of an expiry index key. */
function parseExpiryKey(key: string): { at: number; id: string } {
  return { at: Number(key.slice(2, 17)), id: key.slice(18) };
}

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
  /** The id is this offload's: the record says `running`. */
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
 * The route's cancel hook, passed to `claim`: it aborts the route's backend fetch and resolves once it has. Over
 * RPC it arrives as a stub to a function in the route's isolate; the object keeps a duplicate until the call ends.
 */
export type CancelRoute = () => void | Promise<void>;
type HeldStub = CancelRoute & { dup?: () => HeldStub };

/** `Symbol.dispose` (workerd has it; this file's TypeScript lib predates it). */
const DISPOSE = (Symbol as unknown as { dispose?: symbol }).dispose;

/** Disposes a held RPC stub (a plain function, in unit tests, has nothing to dispose). */
function release(stub: HeldStub | undefined): void {
  if (stub && DISPOSE) (stub as unknown as Record<symbol, (() => void) | undefined>)[DISPOSE]?.();
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

export class RequestShard extends DurableObject<Env> {
  /** The cancel hook of every claimed call still running here (see CancelRoute). */
  private readonly calls = new Map<string, HeldStub>();
  /** The backend cancel call of an id's first DELETE, so concurrent repeats answer with its result. */
  private readonly cancelling = new Map<string, Promise<BackendCancelAnswer>>();
  /** When the alarm is set for (null: none); kept here so most writes need not touch it. */
  private alarmAt: number | null = null;
  /**
   * Finished records not written yet (`finish` defers its write until the route's answer has left; see
   * FINISH_WRITE_DELAY_MS). Every read sees them first; every other write, the alarm and `snapshot` write them.
   */
  private readonly unwritten = new Map<string, Stored>();
  /**
   * What storage holds for the records of calls in flight (`running`), written through by `write`: `finish`, and the
   * write after it, find the record here instead of reading SQLite on the offload's thread (two reads per offload).
   * Empty after a restart, when reads go to storage again; holds no more than the calls in flight.
   */
  private readonly live = new Map<string, Stored>();
  private flushTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    void ctx.blockConcurrencyWhile(async (): Promise<void> => {
      this.alarmAt = await ctx.storage.getAlarm();
      // The edge restarted while these backend calls were in flight: they can no longer answer.
      for (const key of (await ctx.storage.list({ prefix: 'n:' })).keys()) {
        const stored = await ctx.storage.get<Stored>(recordKey(key.slice(2)));
        if (!stored || isFinal(stored.record.status)) continue;
        stored.record.error = 'the edge restarted while the backend call was in flight';
        transition(stored.record, 'failed');
        await this.write(stored.record, stored.expiresAt, true);
      }
    });
  }

  /** The stored record, or null for an id this shard never saw or that `owner` does not own (nothing is written). */
  async snapshot(requestId: string, owner: string): Promise<PublicRecord | null> {
    const stored = await this.read(requestId);
    if (stored?.record.owner !== owner) return null;
    // What a caller has read is durable: a finished record still waiting for its write is written (confirmed) first.
    if (this.unwritten.has(requestId)) await this.writeUnwritten([requestId], true);
    await this.failLostCall(stored);
    return publicRecord(stored.record);
  }

  /**
   * Claims the id for an offload whose backend call the route starts beside this call. `cancelRoute` is how a cancel
   * that arrives while the call runs reaches the route (one RPC per offload instead of a second call held open).
   */
  async claim(input: ClaimInput, cancelRoute?: CancelRoute): Promise<ClaimReply> {
    const config = readConfig(this.env);
    const stored = await this.read(input.requestId);
    const { modelId, split, threshold, backend } = input;
    if (stored) {
      const record = stored.record;
      if (record.cancelledBeforeOffload && record.modelId === null && record.owner === input.owner) {
        // The cancel got here first: answer `cancelled`; the backend was told by that cancel and refuses the
        // offload. The id is a request now, kept as long as any other.
        Object.assign(record, { modelId, split, threshold });
        await this.save(record, { keepForMs: config.requestRetentionMs });
        return { kind: 'cancelled', result: resultMessageOf(record) };
      }
      // Reused, or used by another key: the same answer either way, so the owner of an id stays private.
      return {
        kind: 'conflict',
        error: `request ${input.requestId} was already used; request ids are single-use`,
      };
    }
    const record = newRecord(input.requestId, input.owner);
    Object.assign(record, { modelId, split, threshold, backend });
    transition(record, 'pending');
    transition(record, 'running');
    if (cancelRoute) {
      // A stub passed as an argument is released when this call returns; keep a duplicate until the call ends.
      const held = cancelRoute as HeldStub;
      this.calls.set(record.requestId, held.dup ? held.dup() : held);
    }
    // Unconfirmed: a confirmed write holds the reply for the storage flush (~15 ms locally, longer than the backend
    // call). The write is in this object's storage cache at once, so every later claim or cancel sees it; only a
    // crash of this object's machine within the flush could lose it, and then the backend's own records still refuse
    // the id's reuse while it is in flight. The id is new: nothing stored to read again (as `save` would).
    await this.write(record, Date.now() + config.requestRetentionMs, false, { stored: undefined });
    return { kind: 'claimed' };
  }

  /** The router failed over to another backend: a cancel from now on goes there. */
  async dispatched(requestId: string, backend: BackendRef): Promise<void> {
    const stored = await this.read(requestId);
    if (stored?.record.status !== 'running') return;
    stored.record.backend = backend;
    await this.save(stored.record, { confirmed: false });
  }

  /**
   * Records how the route's backend call ended; a cancel that came first keeps the record `cancelled` (with the
   * backend's numbers). A later call with `backendCancel` only adds what the backend said to the edge's cancel.
   */
  async finish(requestId: string, f: FinishInput): Promise<void> {
    const stored = await this.read(requestId);
    if (!stored) return;
    const record = stored.record;
    if (record.status === 'running') {
      record.result = f.result;
      if (f.error) record.error = f.error;
      transition(record, f.status);
      this.settle(requestId);
    } else if (record.status === 'cancelled' && f.result) {
      record.result = f.result;
    }
    if (f.backendCancel) record.backendCancel = f.backendCancel;
    // Nobody waits for this write: the client already has its answer, and a lost write only shortens the record's
    // history (a restart reads the call as failed). So it is not made as the answer leaves: under `wrangler dev` this
    // object shares the worker's one thread, and a SQLite commit there (1.3-2.6 ms, an fsync) held the answer back.
    // It waits in memory for the next turn (FINISH_WRITE_DELAY_MS), where reads see it; records finished together
    // share one commit. Cancel records, which decide later behaviour, stay confirmed and immediate.
    this.deferWrite({ record: boundRecord(record), expiresAt: stored.expiresAt });
  }

  /** Cancels the request; null when the id belongs to another key (the route answers 404, and nothing changes). */
  async cancel(requestId: string, owner: string): Promise<CancelReply | null> {
    const stored = await this.read(requestId);
    if (stored && stored.record.owner !== owner) return null;
    if (stored) await this.failLostCall(stored);
    const record = stored?.record;
    if (record && isFinal(record.status)) {
      // Idempotent: the request already ended (or was cancelled); report the same final state again.
      const backend = (await this.cancelling.get(requestId)) ??
        record.backendCancel ?? { ok: true, skipped: `request already ${record.status}; nothing to cancel` };
      return this.cancelReply(record, backend);
    }
    if (!record) {
      // Remembered only for CANCEL_TOMBSTONE_MS: long enough for the offload it overtook (whose body must arrive
      // within BODY_TIMEOUT_MS), short enough that cancels of random ids leave nothing behind. The backends are told
      // too: the route sends an offload to the backend beside its claim here, and a backend refuses an id it has
      // seen cancelled, so the overtaken offload costs no compute.
      const tombstone = newRecord(requestId, owner);
      tombstone.cancelledBeforeOffload = true;
      transition(tombstone, 'cancelled');
      await this.save(tombstone, { create: true, keepForMs: readConfig(this.env).cancelTombstoneMs });
      return this.cancelAtBackend(tombstone);
    }
    // Running: wake the route (it aborts its backend fetch at once and answers `cancelled`), then tell the backend
    // to stop computing — after the route said its fetch is aborted (or a bound passed: the route may be gone), so
    // the backend sees the call dropped before it hears the cancel, as when the object made the call itself.
    transition(record, 'cancelled');
    await this.save(record);
    const cancelRoute = this.calls.get(requestId);
    this.calls.delete(requestId);
    const aborted = cancelRoute ? this.tellRoute(cancelRoute) : undefined;
    return this.cancelAtBackend(record, aborted && boundedWait(aborted, ROUTE_ACK_TIMEOUT_MS));
  }

  /** Calls the route's cancel hook (its fetch is aborted when this resolves), then releases it; never rejects. */
  private async tellRoute(cancelRoute: HeldStub): Promise<void> {
    try {
      await cancelRoute();
    } catch {
      // The route is gone (its request ended or its isolate went away): there is no fetch left to abort.
    } finally {
      release(cancelRoute);
    }
  }

  /**
   * What this shard keeps in durable storage: records, stored keys and the SQLite database's size in bytes (what
   * Cloudflare bills). Not on the HTTP API; tests and operators call it through the binding to measure retention.
   */
  async footprint(): Promise<{ records: number; keys: number; bytes: number }> {
    await this.writeUnwritten([...this.unwritten.keys()], true);
    const records = (await this.ctx.storage.list({ prefix: 'r:' })).size;
    const keys = (await this.ctx.storage.list()).size;
    return { records, keys, bytes: this.ctx.storage.sql.databaseSize };
  }

  /** The stored size of one id's record in bytes of JSON, or null when none is stored (tests, operators). */
  async storedSize(requestId: string): Promise<number | null> {
    const stored = await this.read(requestId);
    return stored ? JSON.stringify(stored).length : null;
  }

  /** Deletes every record whose time is up, then sets the alarm for the next expiry. */
  override async alarm(): Promise<void> {
    await this.writeUnwritten([...this.unwritten.keys()], false);
    const now = Date.now();
    for (;;) {
      const due = await this.ctx.storage.list({
        prefix: 'x:',
        end: expiryKey(now + 1, ''),
        limit: EXPIRY_BATCH,
      });
      for (const key of due.keys()) {
        const { id } = parseExpiryKey(key);
        this.settle(id);
        this.live.delete(id);
        await this.ctx.storage.delete([key, recordKey(id), runningKey(id)]);
      }
      if (due.size < EXPIRY_BATCH) break;
    }
    const [next] = (await this.ctx.storage.list({ prefix: 'x:', limit: 1 })).keys();
    this.alarmAt = null;
    if (next !== undefined) await this.scheduleExpiry(parseExpiryKey(next).at);
  }

  /** Tells the backend (after `first`, when given); concurrent and later cancels answer with what it said. */
  private async cancelAtBackend(record: RequestRecord, first?: Promise<void>): Promise<CancelReply> {
    const config = readConfig(this.env);
    const id = record.requestId;
    const cancelling = (first ?? Promise.resolve()).then(() => cancelOnBackends(config, record));
    this.cancelling.set(id, cancelling);
    try {
      record.backendCancel = await cancelling;
      // Onto the record as it is now (the route may have finished it meanwhile); one that expired meanwhile (a
      // short tombstone window) is not brought back.
      const now = await this.read(id);
      if (now) {
        now.record.backendCancel = record.backendCancel;
        await this.save(now.record);
      }
    } finally {
      this.cancelling.delete(id);
    }
    return this.cancelReply(record, record.backendCancel);
  }

  /**
   * A call still `running` long after the backend's deadline lost its route (that isolate went away without a
   * restart of this object): it can no longer answer, so the record says `failed`.
   */
  private async failLostCall(stored: Stored): Promise<void> {
    const record = stored.record;
    const started = record.timestamps.running;
    const deadline = readConfig(this.env).backendTimeoutMs + LOST_CALL_GRACE_MS;
    if (record.status !== 'running' || started === undefined || Date.now() - started < deadline) return;
    record.error = 'the edge lost the backend call (no answer recorded within the backend timeout)';
    transition(record, 'failed');
    this.settle(record.requestId);
    await this.save(record, { confirmed: false });
  }

  /** The call ended without a cancel: its route no longer needs to hear of one. */
  private settle(requestId: string): void {
    release(this.calls.get(requestId));
    this.calls.delete(requestId);
  }

  private cancelReply(record: RequestRecord, backend: BackendCancelAnswer): CancelReply {
    return {
      requestId: record.requestId,
      status: record.status,
      cancelledBeforeOffload: record.cancelledBeforeOffload,
      backend,
    };
  }

  /** The record as it is now: a finished one not written yet (a copy, so callers may change it), else storage's. */
  private async read(requestId: string): Promise<Stored | undefined> {
    const held = this.unwritten.get(requestId) ?? this.live.get(requestId);
    if (held) return structuredClone(held);
    return this.ctx.storage.get<Stored>(recordKey(requestId));
  }

  /** Keeps a finished record in memory and writes it (with any others then waiting) on the next turn. */
  private deferWrite(stored: Stored): void {
    this.unwritten.set(stored.record.requestId, stored);
    this.flushTimer ??= setTimeout(() => void this.flushUnwritten(), FINISH_WRITE_DELAY_MS);
  }

  /** The deferred writes of `finish`, all in one commit (the timer's callback). */
  private async flushUnwritten(): Promise<void> {
    this.flushTimer = null;
    await this.writeUnwritten([...this.unwritten.keys()], false);
  }

  /** Writes these ids' deferred records now (those still unwritten). */
  private async writeUnwritten(ids: string[], confirmed: boolean): Promise<void> {
    for (const id of ids) {
      const stored = this.unwritten.get(id);
      if (stored) await this.write(stored.record, stored.expiresAt, confirmed);
    }
  }

  /**
   * Persists the record (its text fields capped). `create` makes a new record; without it a record that expired
   * meanwhile is not brought back. `confirmed: false` lets replies leave before the write is durable (the output
   * gate would otherwise hold them for the flush); use it only where losing the write cannot change what a later call
   * does. `keepForMs` (re)sets the record's expiry.
   */
  private async save(
    record: RequestRecord,
    opts: { create?: boolean; confirmed?: boolean; keepForMs?: number } = {},
  ): Promise<void> {
    const waiting = this.unwritten.has(record.requestId);
    const prev = await this.read(record.requestId);
    if (!prev && !opts.create) return;
    const expiresAt = opts.keepForMs !== undefined ? Date.now() + opts.keepForMs : prev!.expiresAt;
    // `prev` is what storage holds unless a deferred write of this record was waiting (write reads storage then).
    await this.write(record, expiresAt, opts.confirmed !== false, waiting ? undefined : { stored: prev });
  }

  /**
   * Writes the record and its index keys against what storage holds (`known`: already read from storage; else read
   * here). A deferred write of the record waiting in memory is superseded.
   */
  private async write(
    record: RequestRecord,
    expiresAt: number,
    confirmed: boolean,
    known?: { stored: Stored | undefined },
  ): Promise<void> {
    const id = record.requestId;
    this.unwritten.delete(id);
    const prev = known
      ? known.stored
      : (this.live.get(id) ?? (await this.ctx.storage.get<Stored>(recordKey(id))));
    const opts = { allowUnconfirmed: !confirmed };
    const stored: Stored = { record: boundRecord(record), expiresAt };
    const entries: Record<string, unknown> = { [recordKey(id)]: stored };
    const stale: string[] = [];
    if (prev?.expiresAt !== expiresAt) {
      entries[expiryKey(expiresAt, id)] = 1;
      if (prev) stale.push(expiryKey(prev.expiresAt, id));
    }
    if (record.status === 'running') entries[runningKey(id)] = 1;
    else if (prev?.record.status === 'running') stale.push(runningKey(id));
    await this.ctx.storage.put(entries, opts);
    // A copy: the caller keeps (and may change) `record`.
    if (record.status === 'running') this.live.set(id, structuredClone(stored));
    else this.live.delete(id);
    if (stale.length) await this.ctx.storage.delete(stale, opts);
    if (this.alarmAt === null || expiresAt < this.alarmAt) await this.scheduleExpiry(expiresAt, opts);
  }

  private async scheduleExpiry(at: number, opts: { allowUnconfirmed?: boolean } = {}): Promise<void> {
    this.alarmAt = at;
    await this.ctx.storage.setAlarm(at, opts);
  }
}
