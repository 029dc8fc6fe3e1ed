// The backend's metric names, types and label sets are a contract with alerts and dashboards: this list is what
// /metrics exposed before prom-client took over (gpu-backend/metrics.ts), and it must not change by accident. Also:
// the values the same observations produce, Node's process/heap/event-loop metrics from prom-client's default
// collectors, and separate registries per backend.

import { describe, expect, it } from 'vitest';
import { BackendMetrics, PROMETHEUS_CONTENT_TYPE, type GaugeSnapshot } from '../../gpu-backend/metrics.js';
import { parsePrometheus } from './prometheus-text.js';

/** name → [type, label names of its samples (histograms: besides `le`)]. */
const CONTRACT: Record<string, [string, string[]]> = {
  spinn_backend_requests_total: ['counter', ['status']],
  spinn_backend_rejected_total: ['counter', ['reason']],
  spinn_backend_cancels_total: ['counter', ['state']],
  spinn_backend_blocks_run_total: ['counter', []],
  spinn_backend_exits_total: ['counter', ['exit']],
  spinn_backend_compute_seconds: ['histogram', []],
  spinn_backend_queue_seconds: ['histogram', []],
  spinn_backend_request_batch_size: ['histogram', []],
  spinn_backend_queue_depth: ['gauge', []],
  spinn_backend_queue_capacity: ['gauge', []],
  spinn_backend_workers: ['gauge', []],
  spinn_backend_workers_ready: ['gauge', []],
  spinn_backend_workers_busy: ['gauge', []],
  spinn_backend_requests_running: ['gauge', []],
  spinn_backend_worker_restarts: ['gauge', []],
  spinn_backend_execution_provider: ['gauge', ['provider', 'requested']],
  spinn_backend_early_cancels: ['gauge', []],
  spinn_backend_request_records: ['gauge', []],
  spinn_backend_draining: ['gauge', []],
  spinn_backend_uptime_seconds: ['gauge', []],
};

const SNAPSHOT: GaugeSnapshot = {
  workers: 2,
  workersReady: 2,
  busy: 1,
  running: 3,
  queued: 4,
  maxQueue: 256,
  provider: 'cpu',
  requestedProvider: 'auto',
  earlyCancels: 1,
  records: 7,
  workerRestarts: 0,
  draining: false,
};

function observed(): BackendMetrics {
  const m = new BackendMetrics();
  m.rejected.inc({ reason: 'unauthorized' });
  m.cancels.inc({ state: 'running' });
  m.observeOutcome(
    { status: 'done', exit: 2, blocksRun: 5, computeMs: 3.2, queueMs: 0.7, batchSize: 4 },
    true,
  );
  m.observeOutcome(
    { status: 'cancelled', exit: null, blocksRun: 0, computeMs: 0, queueMs: 0, batchSize: 0 },
    false,
  );
  return m;
}

describe('backend metrics (prom-client)', () => {
  it('keeps every metric name, type and label set of the contract', async () => {
    const families = parsePrometheus(await observed().render(SNAPSHOT));
    const ours = [...families.keys()].filter((n) => n.startsWith('spinn_'));
    expect(ours.sort()).toEqual(Object.keys(CONTRACT).sort());
    for (const [name, [type, labels]] of Object.entries(CONTRACT)) {
      const family = families.get(name)!;
      expect(family.type, name).toBe(type);
      expect(family.samples.length, name).toBeGreaterThan(0);
      for (const s of family.samples) {
        const names = Object.keys(s.labels).filter((l) => !(type === 'histogram' && l === 'le'));
        expect(names.sort(), `${s.name} labels`).toEqual([...labels].sort());
      }
    }
  });

  it('renders the same observations as the values they were before', async () => {
    const families = parsePrometheus(await observed().render(SNAPSHOT));
    const value = (name: string, labels: Record<string, string> = {}, sample = name) =>
      families
        .get(name)!
        .samples.find((s) => s.name === sample && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
        ?.value;
    // Label sets that exist before their first event (so rate() works from the start).
    expect(value('spinn_backend_requests_total', { status: 'failed' })).toBe(0);
    expect(value('spinn_backend_cancels_total', { state: 'before_arrival' })).toBe(0);
    expect(value('spinn_backend_requests_total', { status: 'done' })).toBe(1);
    expect(value('spinn_backend_requests_total', { status: 'cancelled' })).toBe(1);
    expect(value('spinn_backend_rejected_total', { reason: 'unauthorized' })).toBe(1);
    expect(value('spinn_backend_blocks_run_total')).toBe(5);
    expect(value('spinn_backend_exits_total', { exit: '2' })).toBe(1);
    // The cancelled request computed nothing and waited in no queue: one observation each.
    const compute = 'spinn_backend_compute_seconds';
    expect(value(compute, {}, `${compute}_count`)).toBe(1);
    expect(value(compute, {}, `${compute}_sum`)).toBeCloseTo(0.0032, 10);
    expect(value(compute, { le: '0.0025' }, `${compute}_bucket`)).toBe(0);
    expect(value(compute, { le: '0.005' }, `${compute}_bucket`)).toBe(1);
    expect(value(compute, { le: '+Inf' }, `${compute}_bucket`)).toBe(1);
    const buckets = families
      .get(compute)!
      .samples.filter((s) => s.name === `${compute}_bucket`)
      .map((s) => s.labels.le);
    expect(buckets).toEqual([
      ...['0.0005', '0.001', '0.0025', '0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5'],
      ...['5', '10', '+Inf'],
    ]);
    expect(value('spinn_backend_queue_seconds', {}, 'spinn_backend_queue_seconds_sum')).toBeCloseTo(
      0.0007,
      10,
    );
    const batch = 'spinn_backend_request_batch_size';
    expect(value(batch, { le: '2' }, `${batch}_bucket`)).toBe(0);
    expect(value(batch, { le: '4' }, `${batch}_bucket`)).toBe(1);
    expect(value('spinn_backend_queue_depth')).toBe(4);
    expect(value('spinn_backend_queue_capacity')).toBe(256);
    expect(value('spinn_backend_workers_busy')).toBe(1);
    expect(value('spinn_backend_requests_running')).toBe(3);
    expect(value('spinn_backend_request_records')).toBe(7);
    expect(value('spinn_backend_draining')).toBe(0);
    expect(families.get('spinn_backend_execution_provider')!.samples).toEqual([
      { name: 'spinn_backend_execution_provider', labels: { provider: 'cpu', requested: 'auto' }, value: 1 },
    ]);
  });

  it('reads gauges at each scrape, with one execution-provider sample', async () => {
    const m = observed();
    await m.render(SNAPSHOT);
    const again = parsePrometheus(
      await m.render({ ...SNAPSHOT, queued: 0, provider: 'cuda', draining: true }),
    );
    expect(again.get('spinn_backend_queue_depth')!.samples[0]!.value).toBe(0);
    expect(again.get('spinn_backend_draining')!.samples[0]!.value).toBe(1);
    expect(again.get('spinn_backend_execution_provider')!.samples.map((s) => s.labels.provider)).toEqual([
      'cuda',
    ]);
  });

  it("adds Node's process, heap, GC and event-loop metrics", async () => {
    const families = parsePrometheus(await observed().render(SNAPSHOT));
    for (const name of [
      'process_cpu_seconds_total',
      'process_resident_memory_bytes',
      'process_start_time_seconds',
      'nodejs_heap_size_used_bytes',
      'nodejs_heap_space_size_used_bytes',
      'nodejs_eventloop_lag_p99_seconds',
      'nodejs_gc_duration_seconds',
    ]) {
      expect(families.has(name), name).toBe(true);
    }
    expect(families.get('process_resident_memory_bytes')!.samples[0]!.value).toBeGreaterThan(0);
    expect(PROMETHEUS_CONTENT_TYPE).toBe('text/plain; version=0.0.4; charset=utf-8');
  });

  it('keeps the counters of two backends in one process apart', async () => {
    const a = observed();
    const b = new BackendMetrics();
    const done = async (m: BackendMetrics) =>
      parsePrometheus(await m.render(SNAPSHOT))
        .get('spinn_backend_requests_total')!
        .samples.find((s) => s.labels.status === 'done')!.value;
    expect(await done(a)).toBe(1);
    expect(await done(b)).toBe(0);
  });
});
