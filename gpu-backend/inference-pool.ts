// The main-thread side of inference: a fixed set of worker threads (inference-worker.ts), a bounded FIFO queue in
// front of them, and per-worker shared control blocks through which a cancel reaches a running job between two
// blocks. It measures queue time (enqueue to dispatch) apart from compute time (reported by the worker), drops
// cancelled queued jobs without computing, replaces a crashed worker, and drains or cancels everything on shutdown.

import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { ProviderChoice } from './config.js';
import type { LoadedModel } from './model-store.js';
import {
  CONTROL_BLOCKS,
  CONTROL_HELD,
  CONTROL_HOLD,
  CONTROL_SLOTS,
  CONTROL_STATE,
  NO_HOLD,
  STATE_CANCELLED,
  STATE_FINISHED,
  STATE_RUNNING,
  type ActiveProvider,
  type FromWorker,
  type JobDone,
  type RunJob,
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
  /** Enables the hold test hook (setHold); never in production. */
  testHooks?: boolean;
  log?: (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;
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
  input: JobInput;
  hooks: JobHooks;
  enqueuedAt: number;
  resolve: (o: JobOutcome) => void;
}

interface Running extends Pending {
  jobId: number;
  queueMs: number;
}

interface Slot {
  index: number;
  worker: Worker;
  control: Int32Array;
  ready: boolean;
  provider: ActiveProvider | null;
  fallbackReason: string | null;
  job: Running | null;
}

export interface PoolStats {
  workers: number;
  ready: number;
  busy: number;
  queued: number;
  /** Provider the ready workers run on (`mixed` if they disagree, `none` before any is ready). */
  provider: ActiveProvider | 'mixed' | 'none';
  fallbackReason: string | null;
  workerRestarts: number;
}

const WORKER_URL = new URL('./inference-worker.ts', import.meta.url);

/**
 * What to hand to `new Worker`. Compiled JS runs as is; from TypeScript sources (tsx, vitest) the worker needs a
 * loader, and tsx registers its hooks only on the main thread, so a one-line ESM bootstrap registers tsx inside
 * the worker before importing it.
 */
function workerEntry(): URL {
  if (!WORKER_URL.pathname.endsWith('.ts')) return WORKER_URL;
  const tsxDir = dirname(createRequire(import.meta.url).resolve('tsx/package.json'));
  const api = pathToFileURL(join(tsxDir, 'dist/esm/api/index.mjs')).href;
  const boot = `import { register } from ${JSON.stringify(api)}; register(); await import(${JSON.stringify(WORKER_URL.href)});`;
  return new URL(`data:text/javascript,${encodeURIComponent(boot)}`);
}

export class InferencePool {
  private readonly slots: Slot[] = [];
  private readonly queue: Pending[] = [];
  private nextJobId = 1;
  private closed = false;
  private restarts = 0;
  /** The hold test hook's block count (NO_HOLD: none). */
  private hold = NO_HOLD;
  private readonly log: NonNullable<PoolOptions['log']>;

  constructor(private readonly o: PoolOptions) {
    this.log = o.log ?? (() => {});
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
    const control = new Int32Array(new SharedArrayBuffer(CONTROL_SLOTS * 4));
    Atomics.store(control, CONTROL_HOLD, this.hold);
    const init: WorkerInit = {
      models: this.o.models.map((m) => ({ id: m.manifest.id, dir: m.dir })),
      provider: this.o.provider,
      threads: this.o.threads,
      spinning: this.o.spinning,
      control: control.buffer as SharedArrayBuffer,
      testHooks: this.o.testHooks === true,
    };
    const worker = new Worker(workerEntry(), { workerData: init, name: `spinn-infer-${index}` });
    const slot: Slot = {
      index,
      worker,
      control,
      ready: false,
      provider: null,
      fallbackReason: null,
      job: null,
    };
    this.slots[index] = slot;
    return new Promise<void>((resolve, reject) => {
      worker.on('message', (msg: FromWorker) => {
        switch (msg.type) {
          case 'ready':
            slot.ready = true;
            slot.provider = msg.provider;
            slot.fallbackReason = msg.fallbackReason;
            this.log(
              msg.fallbackReason && this.o.provider === 'cuda' ? 'warn' : 'info',
              'inference worker ready',
              {
                worker: index,
                provider: msg.provider,
                requested: this.o.provider,
                ...(msg.fallbackReason ? { cudaUnavailable: msg.fallbackReason } : {}),
                loadMs: Math.round(msg.loadMs),
                warmupMs: Math.round(msg.warmupMs),
              },
            );
            resolve();
            this.pump();
            break;
          case 'result':
            this.finish(slot, msg);
            break;
          case 'fatal':
            reject(new Error(msg.error));
            void worker.terminate();
            break;
        }
      });
      worker.on('error', (err) => {
        this.log('error', 'inference worker crashed', { worker: index, error: err.message });
        if (!slot.ready) reject(err);
      });
      worker.on('exit', (code) => {
        if (this.slots[index] !== slot) return; // already replaced
        const wasReady = slot.provider !== null;
        slot.ready = false;
        const job = slot.job;
        slot.job = null;
        job?.resolve({
          status: 'failed',
          exit: null,
          label: null,
          confidence: null,
          blocksRun: Atomics.load(slot.control, CONTROL_BLOCKS),
          computeMs: 0,
          queueMs: job.queueMs,
          error: `inference worker exited (code ${code}) during the request`,
        });
        if (this.closed) return;
        if (!wasReady) {
          reject(new Error(`inference worker ${index} exited (code ${code}) before it was ready`));
          return;
        }
        // It had served before: replace it so capacity comes back.
        this.restarts++;
        this.log('warn', 'restarting inference worker', { worker: index, code });
        this.spawn(index).catch((e: unknown) =>
          this.log('error', 'could not restart inference worker', {
            worker: index,
            error: (e as Error).message,
          }),
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
    if (this.findJob(input.requestId)) throw new Error(`request ${input.requestId} is already in flight`);
    const idle = this.slots.some((s) => s.ready && !s.job);
    if (!idle && this.queue.length >= this.o.maxQueue) {
      throw new QueueFullError(
        `all ${this.slots.length} workers are busy and ${this.queue.length} requests are queued`,
      );
    }
    return new Promise<JobOutcome>((resolve) => {
      this.queue.push({ input, hooks, enqueuedAt: performance.now(), resolve });
      this.pump();
    });
  }

  /** Whether the request is queued or running here. */
  has(requestId: string): boolean {
    return this.findJob(requestId) !== null;
  }

  /** Live count of blocks a running request has finished (null if it is not running). */
  progress(requestId: string): number | null {
    const slot = this.slots.find((s) => s.job?.input.requestId === requestId);
    return slot ? Atomics.load(slot.control, CONTROL_BLOCKS) : null;
  }

  /**
   * Cancels a queued job (dropped, answered `cancelled` with 0 blocks) or a running one (the worker stops before
   * its next block or exit). Unknown ids are left to the caller.
   */
  cancel(requestId: string): CancelOutcome {
    const qi = this.queue.findIndex((p) => p.input.requestId === requestId);
    if (qi >= 0) {
      const [p] = this.queue.splice(qi, 1);
      p!.resolve({
        status: 'cancelled',
        exit: null,
        label: null,
        confidence: null,
        blocksRun: 0,
        computeMs: 0,
        queueMs: performance.now() - p!.enqueuedAt,
      });
      return { state: 'queued' };
    }
    const slot = this.slots.find((s) => s.job?.input.requestId === requestId);
    if (slot) {
      const prev = Atomics.compareExchange(slot.control, CONTROL_STATE, STATE_RUNNING, STATE_CANCELLED);
      Atomics.notify(slot.control, CONTROL_HOLD); // wakes a job the hold test hook keeps waiting
      const blocksRun = Atomics.load(slot.control, CONTROL_BLOCKS);
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
    this.hold = afterBlocks ?? NO_HOLD;
    for (const s of this.slots) {
      Atomics.store(s.control, CONTROL_HOLD, this.hold);
      Atomics.notify(s.control, CONTROL_HOLD);
    }
  }

  /** Test hook: the hold in force and the requests a worker is holding right now. */
  holdState(): { afterBlocks: number | null; held: string[] } {
    const held = this.slots
      .filter((s) => s.job && Atomics.load(s.control, CONTROL_HELD) === 1)
      .map((s) => s.job!.input.requestId);
    return { afterBlocks: this.hold === NO_HOLD ? null : this.hold, held };
  }

  stats(): PoolStats {
    const ready = this.slots.filter((s) => s.ready);
    const providers = new Set(
      this.slots.map((s) => s.provider).filter((p): p is ActiveProvider => p !== null),
    );
    return {
      workers: this.slots.length,
      ready: ready.length,
      busy: this.slots.filter((s) => s.job).length,
      queued: this.queue.length,
      provider: providers.size === 0 ? 'none' : providers.size > 1 ? 'mixed' : [...providers][0]!,
      fallbackReason: this.slots.find((s) => s.fallbackReason)?.fallbackReason ?? null,
      workerRestarts: this.restarts,
    };
  }

  /** Resolves true once nothing is queued or running, false if `timeoutMs` passes first. */
  async drain(timeoutMs: number): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    while (this.queue.length || this.slots.some((s) => s.job)) {
      if (performance.now() >= deadline) return false;
      await new Promise((r) => setTimeout(r, 10));
    }
    return true;
  }

  /** Refuses new jobs, cancels queued and running ones, waits briefly for workers to answer, terminates them. */
  async close(waitMs = 2000): Promise<void> {
    this.closed = true;
    for (const p of this.queue.splice(0)) {
      p.resolve({
        status: 'cancelled',
        exit: null,
        label: null,
        confidence: null,
        blocksRun: 0,
        computeMs: 0,
        queueMs: performance.now() - p.enqueuedAt,
        error: 'the backend shut down',
      });
    }
    for (const s of this.slots) {
      if (s.job) Atomics.compareExchange(s.control, CONTROL_STATE, STATE_RUNNING, STATE_CANCELLED);
      Atomics.notify(s.control, CONTROL_HOLD);
    }
    await this.drain(waitMs);
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }

  private findJob(requestId: string): Pending | null {
    return (
      this.queue.find((p) => p.input.requestId === requestId) ??
      this.slots.find((s) => s.job?.input.requestId === requestId)?.job ??
      null
    );
  }

  private pump(): void {
    for (const slot of this.slots) {
      if (!this.queue.length) return;
      if (!slot.ready || slot.job) continue;
      const p = this.queue.shift()!;
      const jobId = this.nextJobId++;
      const queueMs = performance.now() - p.enqueuedAt;
      // Reset before posting: a cancel can only change the state once the slot holds this job, so none leaks.
      Atomics.store(slot.control, CONTROL_STATE, STATE_RUNNING);
      Atomics.store(slot.control, CONTROL_BLOCKS, 0);
      Atomics.store(slot.control, CONTROL_HELD, 0);
      slot.job = { ...p, jobId, queueMs };
      p.hooks.onStart?.(queueMs);
      const msg: RunJob = { type: 'run', jobId, ...pick(p.input) };
      slot.worker.postMessage(msg, [msg.values.buffer as ArrayBuffer]);
    }
  }

  private finish(slot: Slot, msg: JobDone): void {
    const job = slot.job;
    if (!job || job.jobId !== msg.jobId) {
      this.log('error', 'result for a job the worker does not hold', {
        worker: slot.index,
        jobId: msg.jobId,
      });
      return;
    }
    slot.job = null;
    job.resolve({
      status: msg.status,
      exit: msg.exit,
      label: msg.label,
      confidence: msg.confidence,
      blocksRun: msg.blocksRun,
      computeMs: msg.computeMs,
      queueMs: job.queueMs,
      ...(msg.error ? { error: msg.error } : {}),
      ...(msg.detail ? { detail: msg.detail } : {}),
    });
    this.pump();
  }
}

function pick(i: JobInput): Omit<RunJob, 'type' | 'jobId'> {
  return {
    modelId: i.modelId,
    split: i.split,
    threshold: i.threshold,
    ...(i.onlyExit !== undefined ? { onlyExit: i.onlyExit } : {}),
    values: i.values,
    shape: i.shape,
  };
}
