// Prometheus metrics of the backend, rendered in the text exposition format (version 0.0.4) for GET /metrics.
// A few counters, gauges and histograms need no client library: this file keeps them and writes the text, so the
// names and label sets operators alert on are defined in one place.

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

type Labels = Record<string, string>;

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function labelText(labels: Labels): string {
  const keys = Object.keys(labels);
  if (!keys.length) return '';
  return `{${keys.map((k) => `${k}="${escapeLabel(labels[k]!)}"`).join(',')}}`;
}

function num(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return '+Inf';
  if (n === -Infinity) return '-Inf';
  return String(n);
}

class Counter {
  private readonly values = new Map<string, { labels: Labels; value: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}
  inc(labels: Labels = {}, by = 1): void {
    const key = labelText(labels);
    const e = this.values.get(key);
    if (e) e.value += by;
    else this.values.set(key, { labels, value: by });
  }
  /** Makes a label set appear at 0 before its first event, so rate() works from the start. */
  init(labels: Labels): void {
    this.inc(labels, 0);
  }
  render(): string[] {
    return [
      `# HELP ${this.name} ${this.help}`,
      `# TYPE ${this.name} counter`,
      ...[...this.values.values()].map((e) => `${this.name}${labelText(e.labels)} ${num(e.value)}`),
    ];
  }
}

class Histogram {
  private readonly counts: number[];
  private sum = 0;
  private count = 0;
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly buckets: number[],
  ) {
    this.counts = buckets.map(() => 0);
  }
  observe(v: number): void {
    this.sum += v;
    this.count++;
    this.buckets.forEach((b, i) => {
      if (v <= b) this.counts[i]!++;
    });
  }
  render(): string[] {
    return [
      `# HELP ${this.name} ${this.help}`,
      `# TYPE ${this.name} histogram`,
      ...this.buckets.map((b, i) => `${this.name}_bucket{le="${num(b)}"} ${this.counts[i]}`),
      `${this.name}_bucket{le="+Inf"} ${this.count}`,
      `${this.name}_sum ${num(this.sum)}`,
      `${this.name}_count ${this.count}`,
    ];
  }
}

function gauge(name: string, help: string, samples: [Labels, number][]): string[] {
  return [
    `# HELP ${name} ${help}`,
    `# TYPE ${name} gauge`,
    ...samples.map(([l, v]) => `${name}${labelText(l)} ${num(v)}`),
  ];
}

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

export class BackendMetrics {
  readonly requests = new Counter(
    'spinn_backend_requests_total',
    'Offloaded requests answered, by result status.',
  );
  readonly rejected = new Counter(
    'spinn_backend_rejected_total',
    'Requests refused before inference, by reason (bad_request, unauthorized, not_found, too_large, unsupported_media_type, conflict, queue_full, shutting_down).',
  );
  readonly cancels = new Counter(
    'spinn_backend_cancels_total',
    'Cancel calls, by the state the request was in (running, queued, before_arrival, finished).',
  );
  readonly blocksRun = new Counter('spinn_backend_blocks_run_total', 'Blocks executed for requests.');
  readonly exits = new Counter('spinn_backend_exits_total', 'Answered requests, by the exit that answered.');
  readonly compute = new Histogram(
    'spinn_backend_compute_seconds',
    'Compute time per request (blocks and exits, in the worker thread).',
    LATENCY_BUCKETS,
  );
  readonly queueWait = new Histogram(
    'spinn_backend_queue_seconds',
    'Time a request waited for a free worker.',
    LATENCY_BUCKETS,
  );
  readonly batchSize = new Histogram(
    'spinn_backend_request_batch_size',
    'Requests dispatched together in the batch each request ran in (1: it ran alone).',
    BATCH_BUCKETS,
  );
  private readonly startedAt = Date.now();

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
    this.blocksRun.inc({}, o.blocksRun);
    if (o.status === 'done' && o.exit !== null) this.exits.inc({ exit: String(o.exit) });
    if (o.computeMs > 0 || o.status !== 'cancelled') this.compute.observe(o.computeMs / 1000);
    if (waitedInQueue) this.queueWait.observe(o.queueMs / 1000);
    if (o.batchSize > 0) this.batchSize.observe(o.batchSize);
  }

  constructor() {
    for (const status of ['done', 'cancelled', 'failed']) this.requests.init({ status });
    for (const state of ['running', 'queued', 'before_arrival', 'finished']) this.cancels.init({ state });
  }

  render(g: GaugeSnapshot): string {
    const lines = [
      ...this.requests.render(),
      ...this.rejected.render(),
      ...this.cancels.render(),
      ...this.blocksRun.render(),
      ...this.exits.render(),
      ...this.compute.render(),
      ...this.queueWait.render(),
      ...this.batchSize.render(),
      ...gauge('spinn_backend_queue_depth', 'Requests waiting for a free worker.', [[{}, g.queued]]),
      ...gauge('spinn_backend_queue_capacity', 'Most requests allowed to wait.', [[{}, g.maxQueue]]),
      ...gauge('spinn_backend_workers', 'Inference worker threads configured.', [[{}, g.workers]]),
      ...gauge('spinn_backend_workers_ready', 'Inference worker threads loaded and serving.', [
        [{}, g.workersReady],
      ]),
      ...gauge('spinn_backend_workers_busy', 'Inference worker threads running a batch.', [[{}, g.busy]]),
      ...gauge('spinn_backend_requests_running', 'Requests in running batches that have not answered yet.', [
        [{}, g.running],
      ]),
      ...gauge('spinn_backend_worker_restarts', 'Inference workers replaced after a crash since start.', [
        [{}, g.workerRestarts],
      ]),
      ...gauge(
        'spinn_backend_execution_provider',
        'Execution provider the sessions actually run on (value 1), with the one requested.',
        [[{ provider: g.provider, requested: g.requestedProvider }, 1]],
      ),
      ...gauge('spinn_backend_early_cancels', 'Cancels remembered for requests not seen yet.', [
        [{}, g.earlyCancels],
      ]),
      ...gauge('spinn_backend_request_records', 'Request records kept for GET /requests/:id.', [
        [{}, g.records],
      ]),
      ...gauge('spinn_backend_draining', '1 while shutting down (new requests refused).', [
        [{}, g.draining ? 1 : 0],
      ]),
      ...gauge('spinn_backend_uptime_seconds', 'Seconds since the backend started.', [
        [{}, (Date.now() - this.startedAt) / 1000],
      ]),
    ];
    return lines.join('\n') + '\n';
  }
}
