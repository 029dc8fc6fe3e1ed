// The main-thread side of inference: a fixed set of worker threads (inference-worker.ts), a bounded queue in front
// of them from which a free worker takes a batch of one model's requests (batch-queue.ts, limits per model from
// batching.ts), and per-worker shared control blocks, one slot per job of the batch, through which a cancel reaches
// a running job between two blocks. It measures queue time (enqueue to dispatch) apart from compute time (reported by
// the worker), drops cancelled queued jobs without computing, answers each job as it leaves its batch, replaces a
// crashed worker, and drains or cancels everything on shutdown.

import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { BatchQueue } from './batch-queue.js';
import { resolveBatchLimits, type BatchingConfig, type BatchLimits } from './batching.js';
import type { ProviderChoice } from './config.js';
import { silentLogger, type Logger } from './log.js';
import type { LoadedModel } from './model-store.js';
import { workerEntry } from './worker-entry.js';
import {
  CONTROL_BLOCKS,
  CONTROL_SLOTS,
  CONTROL_STATE,
  HOLD_AT,
  HOLD_HELD,
  HOLD_SLOTS,
  NO_HOLD,
  STATE_CANCELLED,
  STATE_FINISHED,
  STATE_RUNNING,
  controlIndex,
  type ActiveProvider,
  type BatchJob,
  type BatchResults,
  type FromWorker,
  type RunBatch,
  type WorkerInit,
} from './worker-protocol.js';

export interface PoolOptions {
  models: LoadedModel[];
  workers: number;
  threads: number;
  /** Let onnxruntime's intra-op threads spin-wait between runs (only matters with threads > 1). */
  spinning: boolean;
  provider: ProviderChoice;
  /** Most jobs waiting for a worker; submit() throws QueueFullError beyond it. */
  maxQueue: number;
  /** Dynamic batching limits (per model; unset ones follow the provider each worker got). */
  batching: BatchingConfig;
  /** Enables the hold test hook (setHold); never in production. */
  testHooks?: boolean;
  log?: Logger;
}

export interface JobInput {
  requestId: string;
  modelId: string;
  split: number;
  threshold: number;
  /** Edgent-style truncation: only this exit runs and answers. */
  onlyExit?: number;
  values: Float32Array;
  shape: number[];
}

export interface JobOutcome {
  status: 'done' | 'cancelled' | 'failed';
  exit: number | null;
  label: number | null;
  confidence: number | null;
  blocksRun: number;
  computeMs: number;
  queueMs: number;
  /** Requests dispatched together in its batch (1 when it ran alone; 0 when it never ran). */
  batchSize: number;
  /** Softmax of the exit that answered (done only). */
  probabilities?: Float32Array;
  /** Fit for the client. */
  error?: string;
  /** For the log only. */
  detail?: string;
}

export interface JobHooks {
  /** Called when a worker takes the job, with the time it waited. */
  onStart?: (queueMs: number) => void;
}

export type CancelOutcome =
  | { state: 'running'; blocksRun: number }
  | { state: 'queued' }
  /** The worker had already finished; its result is on its way. */
  | { state: 'finishing'; blocksRun: number }
  | { state: 'unknown' };

export class QueueFullError extends Error {
  override readonly name = 'QueueFullError';
}
export class PoolClosedError extends Error {
  override readonly name = 'PoolClosedError';
}

interface Pending {
  requestId: string;
  modelId: string;
  input: JobInput;
  hooks: JobHooks;
  enqueuedAt: number;
  resolve: (o: JobOutcome) => void;
}

interface Running extends Pending {
  jobId: number;
  /** Its place in the worker's control block. */
  controlSlot: number;
  queueMs: number;
  batchSize: number;
}

interface Batch {
  batchId: number;
  /** Jobs that have not answered yet, by job id. */
  jobs: Map<number, Running>;
}

interface Slot {
  index: number;
  worker: Worker;
  control: Int32Array;
  /** The hold test hook's words (worker-protocol.ts HOLD_*). */
  hold: Int32Array;
  ready: boolean;
  provider: ActiveProvider | null;
  fallbackReason: string | null;
  batch: Batch | null;
}

export interface PoolStats {
  workers: number;
  ready: number;
  /** Workers running a batch. */
  busy: number;
  /** Requests in those batches that have not answered yet. */
  running: number;
  queued: number;
  /** Provider the ready workers run on (`mixed` if they disagree, `none` before any is ready). */
  provider: ActiveProvider | 'mixed' | 'none';
  fallbackReason: string | null;
  workerRestarts: number;
}

const WORKER_URL = new URL('./inference-worker.ts', import.meta.url);

/** The outcome of a request that never ran (cancelled while queued, before arrival, or at shutdown). */
export const cancelledOutcome = (queueMs: number, error?: string): JobOutcome => ({
  status: 'cancelled',
  exit: null,
  label: null,
  confidence: null,
  blocksRun: 0,
  computeMs: 0,
  queueMs,
  batchSize: 0,
  ...(error ? { error } : {}),
});

export class InferencePool {
  private readonly slots: Slot[] = [];
  private readonly queue = new BatchQueue<Pending>();
  /** Jobs in a worker's batch, by request id, with the worker. */
  private readonly running = new Map<string, { slot: Slot; job: Running }>();
  private nextJobId = 1;
  private nextBatchId = 1;
  private closed = false;
  private restarts = 0;
  /** The hold test hook's block count (NO_HOLD: none). */
  private holdAt = NO_HOLD;
  private retryTimer: NodeJS.Timeout | null = null;
  private retryAt = Infinity;
  /** Jobs a worker's control block has room for: the largest batch any model can get. */
  private readonly capacity: number;
  private readonly log: Logger;

  constructor(private readonly o: PoolOptions) {
    this.log = o.log ?? silentLogger;
    this.capacity = Math.max(this.largestBatch('cpu'), this.largestBatch('cuda'));
  }

  private largestBatch(provider: ActiveProvider): number {
    return Math.max(...this.o.models.map((m) => this.limits(m.manifest.id, provider).maxBatch));
  }

  /** The batching limits a model gets on a worker running on `provider`. */
  limits(modelId: string, provider: ActiveProvider = 'cpu'): BatchLimits {
    return resolveBatchLimits(this.o.batching, modelId, provider);
  }

  /** Spawns the workers and resolves once every one has loaded and warmed up its sessions. */
  async start(): Promise<void> {
    const starts: Promise<void>[] = [];
    for (let i = 0; i < this.o.workers; i++) starts.push(this.spawn(i));
    try {
      await Promise.all(starts);
    } catch (e) {
      await this.close();
      throw e;
    }
  }

  private spawn(index: number): Promise<void> {
    const control = new Int32Array(new SharedArrayBuffer(this.capacity * CONTROL_SLOTS * 4));
    const hold = new Int32Array(new SharedArrayBuffer(HOLD_SLOTS * 4));
    Atomics.store(hold, HOLD_AT, this.holdAt);
    const init: WorkerInit = {
      models: this.o.models.map((m) => ({ id: m.manifest.id, dir: m.dir })),
      provider: this.o.provider,
      threads: this.o.threads,
      spinning: this.o.spinning,
      control: control.buffer as SharedArrayBuffer,
      warmupBatch: {
        cpu: this.largestBatch('cpu'),
        cuda: this.largestBatch('cuda'),
      },
      hold: hold.buffer as SharedArrayBuffer,
      testHooks: this.o.testHooks === true,
    };
    const worker = new Worker(workerEntry(WORKER_URL), { workerData: init, name: `spinn-infer-${index}` });
    const slot: Slot = {
      index,
      worker,
      control,
      hold,
      ready: false,
      provider: null,
      fallbackReason: null,
      batch: null,
    };
    this.slots[index] = slot;
    return new Promise<void>((resolve, reject) => {
      worker.on('message', (msg: FromWorker) => {
        switch (msg.type) {
          case 'ready':
            slot.ready = true;
            slot.provider = msg.provider;
            slot.fallbackReason = msg.fallbackReason;
            this.log[msg.fallbackReason && this.o.provider === 'cuda' ? 'warn' : 'info'](
              {
                worker: index,
                provider: msg.provider,
                requested: this.o.provider,
                ...(msg.fallbackReason ? { cudaUnavailable: msg.fallbackReason } : {}),
                loadMs: Math.round(msg.loadMs),
                warmupMs: Math.round(msg.warmupMs),
              },
              'inference worker ready',
            );
            resolve();
            this.pump();
            break;
          case 'results':
            this.finish(slot, msg);
            break;
          case 'fatal':
            reject(new Error(msg.error));
            void worker.terminate();
            break;
        }
      });
      worker.on('error', (err) => {
        this.log.error({ worker: index, error: err.message }, 'inference worker crashed');
        if (!slot.ready) reject(err);
      });
      worker.on('exit', (code) => {
        if (this.slots[index] !== slot) return; // already replaced
        const wasReady = slot.provider !== null;
        slot.ready = false;
        const batch = slot.batch;
        slot.batch = null;
        for (const job of batch?.jobs.values() ?? []) {
          this.running.delete(job.requestId);
          job.resolve({
            status: 'failed',
            exit: null,
            label: null,
            confidence: null,
            blocksRun: Atomics.load(slot.control, controlIndex(job.controlSlot, CONTROL_BLOCKS)),
            computeMs: 0,
            queueMs: job.queueMs,
            batchSize: job.batchSize,
            error: `inference worker exited (code ${code}) during the request`,
          });
        }
        if (this.closed) return;
        if (!wasReady) {
          reject(new Error(`inference worker ${index} exited (code ${code}) before it was ready`));
          return;
        }
        // It had served before: replace it so capacity comes back.
        this.restarts++;
        this.log.warn({ worker: index, code }, 'restarting inference worker');
        this.spawn(index).catch((e: unknown) =>
          this.log.error(
            { worker: index, error: (e as Error).message },
            'could not restart inference worker',
          ),
        );
      });
    });
  }

  /**
   * Queues a job and resolves with its outcome (never rejects for inference errors: those are `failed`).
   * Throws QueueFullError when the queue is at its bound, PoolClosedError after close().
   */
  submit(input: JobInput, hooks: JobHooks = {}): Promise<JobOutcome> {
    if (this.closed) throw new PoolClosedError('the backend is shutting down');
    if (this.has(input.requestId)) throw new Error(`request ${input.requestId} is already in flight`);
    const idle = this.slots.some((s) => s.ready && !s.batch);
    if (!idle && this.queue.length >= this.o.maxQueue) {
      throw new QueueFullError(
        `all ${this.slots.length} workers are busy and ${this.queue.length} requests are queued`,
      );
    }
    return new Promise<JobOutcome>((resolve) => {
      this.queue.push({
        requestId: input.requestId,
        modelId: input.modelId,
        input,
        hooks,
        enqueuedAt: performance.now(),
        resolve,
      });
      this.pump();
    });
  }

  /** Whether the request is queued or running here. */
  has(requestId: string): boolean {
    return this.running.has(requestId) || this.queue.find(requestId) !== undefined;
  }

  /** Live count of blocks a running request has finished (null if it is not running). */
  progress(requestId: string): number | null {
    const r = this.running.get(requestId);
    return r ? Atomics.load(r.slot.control, controlIndex(r.job.controlSlot, CONTROL_BLOCKS)) : null;
  }

  /**
   * Cancels a queued job (dropped, answered `cancelled` with 0 blocks) or a running one (the worker takes it out of
   * its batch before its next block or exit). Unknown ids are left to the caller.
   */
  cancel(requestId: string): CancelOutcome {
    const queued = this.queue.remove(requestId);
    if (queued) {
      queued.resolve(cancelledOutcome(performance.now() - queued.enqueuedAt));
      return { state: 'queued' };
    }
    const r = this.running.get(requestId);
    if (r) {
      const { control } = r.slot;
      const at = r.job.controlSlot;
      const prev = Atomics.compareExchange(
        control,
        controlIndex(at, CONTROL_STATE),
        STATE_RUNNING,
        STATE_CANCELLED,
      );
      Atomics.notify(r.slot.hold, HOLD_AT); // wakes a job the hold test hook keeps waiting
      const blocksRun = Atomics.load(control, controlIndex(at, CONTROL_BLOCKS));
      return prev === STATE_FINISHED ? { state: 'finishing', blocksRun } : { state: 'running', blocksRun };
    }
    return { state: 'unknown' };
  }

  /**
   * Test hook (only with `testHooks`): every job, running or to come, holds once it has run `afterBlocks` blocks,
   * until `setHold(null)` or its cancel.
   */
  setHold(afterBlocks: number | null): void {
    if (!this.o.testHooks) throw new Error('the hold test hook is disabled (start with --test-hooks)');
    this.holdAt = afterBlocks ?? NO_HOLD;
    for (const s of this.slots) {
      Atomics.store(s.hold, HOLD_AT, this.holdAt);
      Atomics.notify(s.hold, HOLD_AT);
    }
  }

  /** Test hook: the hold in force and the requests a worker is holding right now. */
  holdState(): { afterBlocks: number | null; held: string[] } {
    const held: string[] = [];
    for (const s of this.slots) {
      const at = Atomics.load(s.hold, HOLD_HELD) - 1;
      const job = at < 0 ? undefined : [...(s.batch?.jobs.values() ?? [])].find((j) => j.controlSlot === at);
      if (job) held.push(job.requestId);
    }
    return { afterBlocks: this.holdAt === NO_HOLD ? null : this.holdAt, held };
  }

  stats(): PoolStats {
    const ready = this.slots.filter((s) => s.ready);
    const providers = new Set(
      this.slots.map((s) => s.provider).filter((p): p is ActiveProvider => p !== null),
    );
    return {
      workers: this.slots.length,
      ready: ready.length,
      busy: this.slots.filter((s) => s.batch).length,
      running: this.running.size,
      queued: this.queue.length,
      provider: providers.size === 0 ? 'none' : providers.size > 1 ? 'mixed' : [...providers][0]!,
      fallbackReason: this.slots.find((s) => s.fallbackReason)?.fallbackReason ?? null,
      workerRestarts: this.restarts,
    };
  }

  /** Resolves true once nothing is queued or running, false if `timeoutMs` passes first. */
  async drain(timeoutMs: number): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    while (this.queue.length || this.slots.some((s) => s.batch)) {
      if (performance.now() >= deadline) return false;
      await new Promise((r) => setTimeout(r, 10));
    }
    return true;
  }

  /** Refuses new jobs, cancels queued and running ones, waits briefly for workers to answer, terminates them. */
  async close(waitMs = 2000): Promise<void> {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    for (const p of this.queue.drain()) {
      p.resolve(cancelledOutcome(performance.now() - p.enqueuedAt, 'the backend shut down'));
    }
    for (const { slot, job } of this.running.values()) {
      Atomics.compareExchange(
        slot.control,
        controlIndex(job.controlSlot, CONTROL_STATE),
        STATE_RUNNING,
        STATE_CANCELLED,
      );
    }
    for (const s of this.slots) Atomics.notify(s.hold, HOLD_AT);
    await this.drain(waitMs);
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }

  /** Hands each free worker the batch the queue gives it; if a model is still filling its batch, asks again then. */
  private pump(): void {
    if (this.closed) return;
    let free = this.slots.filter((s) => s.ready && !s.batch);
    while (free.length) {
      const slot = free[0]!;
      const next = this.queue.take(performance.now(), free.length, (id) =>
        this.limits(id, slot.provider ?? 'cpu'),
      );
      if (!next) return;
      if ('retryAt' in next) return this.retryLater(next.retryAt);
      this.dispatch(slot, next.batch);
      free = free.slice(1);
    }
  }

  private retryLater(at: number): void {
    if (this.retryTimer && at >= this.retryAt) return;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryAt = at;
    this.retryTimer = setTimeout(
      () => {
        this.retryTimer = null;
        this.retryAt = Infinity;
        this.pump();
      },
      Math.max(0, at - performance.now()),
    );
  }

  private dispatch(slot: Slot, pending: Pending[]): void {
    const batch: Batch = { batchId: this.nextBatchId++, jobs: new Map() };
    const now = performance.now();
    const jobs: BatchJob[] = pending.map((p, controlSlot) => {
      const job: Running = {
        ...p,
        jobId: this.nextJobId++,
        controlSlot,
        queueMs: now - p.enqueuedAt,
        batchSize: pending.length,
      };
      // Reset before posting: a cancel can only change the state once the job is known to run here, so none leaks.
      Atomics.store(slot.control, controlIndex(controlSlot, CONTROL_STATE), STATE_RUNNING);
      Atomics.store(slot.control, controlIndex(controlSlot, CONTROL_BLOCKS), 0);
      batch.jobs.set(job.jobId, job);
      this.running.set(p.requestId, { slot, job });
      return { jobId: job.jobId, slot: controlSlot, ...pick(p.input) };
    });
    slot.batch = batch;
    for (const job of batch.jobs.values()) job.hooks.onStart?.(job.queueMs);
    const msg: RunBatch = { type: 'batch', batchId: batch.batchId, modelId: pending[0]!.modelId, jobs };
    slot.worker.postMessage(
      msg,
      jobs.map((j) => j.values.buffer as ArrayBuffer),
    );
  }

  private finish(slot: Slot, msg: BatchResults): void {
    const batch = slot.batch;
    if (!batch || batch.batchId !== msg.batchId) {
      this.log.error(
        { worker: slot.index, batchId: msg.batchId },
        'results for a batch the worker does not hold',
      );
      return;
    }
    for (const r of msg.results) {
      const job = batch.jobs.get(r.jobId);
      if (!job) continue;
      batch.jobs.delete(r.jobId);
      this.running.delete(job.requestId);
      job.resolve({
        status: r.status,
        exit: r.exit,
        label: r.label,
        confidence: r.confidence,
        blocksRun: r.blocksRun,
        computeMs: r.computeMs,
        queueMs: job.queueMs,
        batchSize: job.batchSize,
        ...(r.probabilities ? { probabilities: r.probabilities } : {}),
        ...(r.error ? { error: r.error } : {}),
        ...(r.detail ? { detail: r.detail } : {}),
      });
    }
    if (msg.batchDone) {
      slot.batch = null;
      this.pump();
    }
  }
}

function pick(i: JobInput): Omit<BatchJob, 'jobId' | 'slot'> {
  return {
    split: i.split,
    threshold: i.threshold,
    ...(i.onlyExit !== undefined ? { onlyExit: i.onlyExit } : {}),
    values: i.values,
    shape: i.shape,
  };
}
