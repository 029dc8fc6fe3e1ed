// Prometheus metrics of the backend for GET /metrics, kept by prom-client in a registry of their own (one per
// backend, so several backends in one process, as in the tests, do not share counters). prom-client also brings
// Node's process, heap, GC and event-loop metrics (its default collectors: `process_*`, `nodejs_*`). The names,
// types and label sets below are what operators alert on and dashboards plot: they are defined here once, and
// test/gpu-backend/metrics.test.ts holds them to the list they had before prom-client.

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export const PROMETHEUS_CONTENT_TYPE = Registry.PROMETHEUS_CONTENT_TYPE;

/** Seconds buckets from 0.5 ms to 10 s: block-level work on a GPU up to a whole model on a slow CPU. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Requests per batch: powers of two up to the largest batch allowed (batching.ts). */
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256];

/** Live values read at scrape time. */
export interface GaugeSnapshot {
  workers: number;
  workersReady: number;
  busy: number;
  running: number;
  queued: number;
  maxQueue: number;
  provider: string;
  requestedProvider: string;
  earlyCancels: number;
  records: number;
  workerRestarts: number;
  draining: boolean;
}

/** The gauges without labels, each with the snapshot field it shows. */
const SNAPSHOT_GAUGES: [name: string, help: string, read: (g: GaugeSnapshot) => number][] = [
  ['spinn_backend_queue_depth', 'Requests waiting for a free worker.', (g) => g.queued],
  ['spinn_backend_queue_capacity', 'Most requests allowed to wait.', (g) => g.maxQueue],
  ['spinn_backend_workers', 'Inference worker threads configured.', (g) => g.workers],
  ['spinn_backend_workers_ready', 'Inference worker threads loaded and serving.', (g) => g.workersReady],
  ['spinn_backend_workers_busy', 'Inference worker threads running a batch.', (g) => g.busy],
  [
    'spinn_backend_requests_running',
    'Requests in running batches that have not answered yet.',
    (g) => g.running,
  ],
  [
    'spinn_backend_worker_restarts',
    'Inference workers replaced after a crash since start.',
    (g) => g.workerRestarts,
  ],
  ['spinn_backend_early_cancels', 'Cancels remembered for requests not seen yet.', (g) => g.earlyCancels],
  ['spinn_backend_request_records', 'Request records kept for GET /requests/:id.', (g) => g.records],
  ['spinn_backend_draining', '1 while shutting down (new requests refused).', (g) => (g.draining ? 1 : 0)],
];

export class BackendMetrics {
  readonly registry = new Registry();
  readonly requests = this.counter(
    'spinn_backend_requests_total',
    'Offloaded requests answered, by result status.',
    ['status'],
  );
  readonly rejected = this.counter(
    'spinn_backend_rejected_total',
    'Requests refused before inference, by reason (bad_request, unauthorized, not_found, too_large, unsupported_media_type, conflict, queue_full, shutting_down).',
    ['reason'],
  );
  readonly cancels = this.counter(
    'spinn_backend_cancels_total',
    'Cancel calls, by the state the request was in (running, queued, before_arrival, finished).',
    ['state'],
  );
  readonly blocksRun = this.counter('spinn_backend_blocks_run_total', 'Blocks executed for requests.');
  readonly exits = this.counter(
    'spinn_backend_exits_total',
    'Answered requests, by the exit that answered.',
    ['exit'],
  );
  readonly compute = this.histogram(
    'spinn_backend_compute_seconds',
    'Compute time per request (blocks and exits, in the worker thread).',
    LATENCY_BUCKETS,
  );
  readonly queueWait = this.histogram(
    'spinn_backend_queue_seconds',
    'Time a request waited for a free worker.',
    LATENCY_BUCKETS,
  );
  readonly batchSize = this.histogram(
    'spinn_backend_request_batch_size',
    'Requests dispatched together in the batch each request ran in (1: it ran alone).',
    BATCH_BUCKETS,
  );
  private readonly snapshotGauges = SNAPSHOT_GAUGES.map(([name, help, read]) => ({
    gauge: this.gauge(name, help),
    read,
  }));
  private readonly provider = this.gauge(
    'spinn_backend_execution_provider',
    'Execution provider the sessions actually run on (value 1), with the one requested.',
    ['provider', 'requested'],
  );
  private readonly uptime = this.gauge('spinn_backend_uptime_seconds', 'Seconds since the backend started.');
  private readonly startedAt = Date.now();

  constructor() {
    // Label sets that exist at 0 before their first event, so rate() works from the start.
    for (const status of ['done', 'cancelled', 'failed']) this.requests.inc({ status }, 0);
    for (const state of ['running', 'queued', 'before_arrival', 'finished']) this.cancels.inc({ state }, 0);
    collectDefaultMetrics({ register: this.registry });
  }

  private counter<L extends string = never>(name: string, help: string, labelNames: readonly L[] = []) {
    return new Counter<L>({ name, help, labelNames, registers: [this.registry] });
  }

  private histogram(name: string, help: string, buckets: number[]) {
    return new Histogram({ name, help, buckets, registers: [this.registry] });
  }

  private gauge<L extends string = never>(name: string, help: string, labelNames: readonly L[] = []) {
    return new Gauge<L>({ name, help, labelNames, registers: [this.registry] });
  }

  /** Accounts one answered request (the internal API's and the Open Inference Protocol's alike). */
  observeOutcome(
    o: {
      status: 'done' | 'cancelled' | 'failed';
      exit: number | null;
      blocksRun: number;
      computeMs: number;
      queueMs: number;
      batchSize: number;
    },
    waitedInQueue: boolean,
  ): void {
    this.requests.inc({ status: o.status });
    this.blocksRun.inc(o.blocksRun);
    if (o.status === 'done' && o.exit !== null) this.exits.inc({ exit: String(o.exit) });
    if (o.computeMs > 0 || o.status !== 'cancelled') this.compute.observe(o.computeMs / 1000);
    if (waitedInQueue) this.queueWait.observe(o.queueMs / 1000);
    if (o.batchSize > 0) this.batchSize.observe(o.batchSize);
  }

  /** The exposition text, with the gauges set from `g` (read at scrape time) and Node's own metrics. */
  async render(g: GaugeSnapshot): Promise<string> {
    for (const { gauge, read } of this.snapshotGauges) gauge.set(read(g));
    this.provider.reset();
    this.provider.set({ provider: g.provider, requested: g.requestedProvider }, 1);
    this.uptime.set((Date.now() - this.startedAt) / 1000);
    return this.registry.metrics();
  }
}
