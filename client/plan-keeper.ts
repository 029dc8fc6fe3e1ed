// The client's side of SPINN's scheduler: keeps the SLA and the online profiler (device scale, link latency and
// bandwidth, server speed), and decides when the edge should plan again. Plans come from the edge (on results of
// offloads that asked for a replan, or `POST /v1/plan` for the first plan and for refreshes while the device runs
// alone) and go to the PlanResolver; when the edge cannot be reached the client runs the same core scheduler
// itself with the server options removed. Protocol 3 keeps steady-state offloads small: the SLA and the context
// ride on an offload only when a replan is due (every `refreshEvery` calls, or when what the client measures has
// moved by more than `deviceDrift` from what the edge last planned with).

import type { ModelManifest } from '../core/manifest.js';
import { OnlineProfiler } from '../core/online-profiler.js';
import { costModel, offlineServerMs } from '../core/plan-estimator.js';
import { schedulerContext } from '../core/scheduler-context.js';
import { decisionToPlan, schedule } from '../core/scheduler.js';
import type { Sla } from '../core/sla.js';
import type { ClientContext, Plan, ResultMessage } from '../core/wire.js';
import { parsePlan } from './checks/wire.js';
import { describeError } from './offload.js';
import type { PlanResolver, PlanSource } from './plan-resolver.js';

export interface PlanKeeperOptions {
  sla: Sla;
  /** Where plans go (the client's one owner of plans). */
  resolver: PlanResolver;
  edgeUrl: string;
  modelId: string;
  fetch: typeof fetch;
  headers?: Record<string, string>;
  /** Ask the edge for a fresh plan after this many calls without an edge plan (default 10). */
  refreshEvery: number;
  /** Ask at once when the device scale differs from the one the plan saw by more than this relative change. */
  deviceDrift: number;
  timeoutMs: number;
  now: () => number;
  /**
   * Milliseconds the client has spent running blocks and exits so far (a running total). JavaScript runs them on
   * the thread that reads responses, so the part of a plan request's round trip spent inside them is the device
   * being busy, not the network: a slow device computing through a refresh read 80–190 ms round trips on a 20 ms
   * link, and priced every offload off the table.
   */
  busyMs?: () => number;
}

/** The measurements a replan compares: when any moves by more than `deviceDrift` (relative), the edge replans. */
const DRIFT_FIELDS = ['deviceScale', 'serverScale', 'rttMs', 'bandwidthBps'] as const;

export class PlanKeeper {
  readonly profiler = new OnlineProfiler();
  /** Why the last plan request failed, if it did. */
  lastError: string | undefined;
  private sinceEdge = 0;
  private refreshing: Promise<void> | undefined;
  /** The context the edge last planned with (sent with a replan or a plan request). */
  private planned: ClientContext | undefined;
  /** A refresh is due and the plan offloads: the next offload carries the replan instead of a plan request. */
  private replanDue = false;

  constructor(private readonly o: PlanKeeperOptions) {}

  /** The scheduled plan in force. */
  get plan(): Plan | undefined {
    return this.o.resolver.scheduled?.plan;
  }

  get sla(): Sla {
    return this.o.sla;
  }

  /** What the client reports to the edge (the profiler's averages plus the device scale it measured). */
  context(deviceScale: number | undefined): ClientContext {
    return { ...this.profiler.context(), ...(deviceScale !== undefined ? { deviceScale } : {}) };
  }

  /** `POST /v1/plan`; a failure yields a local device-only plan. Never rejects. */
  async requestPlan(manifest: ModelManifest, deviceScale: number | undefined): Promise<void> {
    this.sinceEdge = 0;
    this.replanDue = false;
    const context = this.context(deviceScale);
    this.planned = context;
    const body = JSON.stringify({ modelId: this.o.modelId, context, sla: this.o.sla });
    const t0 = this.o.now();
    const busy0 = this.o.busyMs?.() ?? 0;
    try {
      const res = await this.o.fetch(`${this.o.edgeUrl}/v1/plan`, {
        method: 'POST',
        headers: { ...this.o.headers, 'content-type': 'application/json', accept: 'application/json' },
        body,
        signal: AbortSignal.timeout(this.o.timeoutMs),
      });
      const text = await res.text();
      const ms = Math.max(0, this.o.now() - t0 - ((this.o.busyMs?.() ?? 0) - busy0));
      if (!res.ok) throw new Error(`edge answered HTTP ${res.status}: ${text.slice(0, 300)}`);
      const plan = parsePlan((JSON.parse(text) as { plan?: unknown }).plan);
      this.profiler.observeTransfer(body.length + text.length, ms);
      this.adopt(plan, 'edge');
      this.lastError = undefined;
    } catch (e) {
      this.lastError = `POST /v1/plan failed: ${describeError(e)}`;
      this.planLocally(manifest, deviceScale);
    }
  }

  /** The core scheduler on the device, server options removed. */
  planLocally(manifest: ModelManifest, deviceScale: number | undefined): void {
    if (!manifest.profile) return;
    const d = schedule({
      manifest,
      sla: this.o.sla,
      context: schedulerContext(this.context(deviceScale), undefined, false),
    });
    this.o.resolver.adopt(decisionToPlan(d), 'local');
  }

  adopt(plan: Plan | null | undefined, source: PlanSource): void {
    if (!plan) return;
    this.o.resolver.adopt(plan, source);
    if (source === 'edge') this.sinceEdge = 0;
  }

  /**
   * Called at the start of every call: starts a background refresh when the edge has been silent too long, or
   * when the plan in force was made for a device of another speed than the one measured now.
   */
  onCall(manifest: ModelManifest, deviceScale: number | undefined): void {
    const due = ++this.sinceEdge >= this.o.refreshEvery || this.drifted(this.context(deviceScale));
    if (!due || this.refreshing) return;
    // An offloading plan asks on its next offload (no extra request); a device-only one asks in the background.
    const offloads = this.plan !== undefined && this.plan.split < manifest.blocks.length;
    if (offloads && this.o.resolver.scheduled?.source === 'edge') {
      this.replanDue = true;
      return;
    }
    this.refreshing = this.requestPlan(manifest, deviceScale).finally(() => (this.refreshing = undefined));
  }

  /**
   * Whether a measurement moved by more than `deviceDrift` from what the plan in force was made for: what the client
   * sent with its last replan, and for the device scale what the edge says it assumed (a first plan is made before
   * the device was timed, for a device as fast as the profile's).
   */
  private drifted(now: ClientContext): boolean {
    const limit = Math.log(1 + this.o.deviceDrift);
    return DRIFT_FIELDS.some((k) => {
      const a = (k === 'deviceScale' ? this.plan?.seen?.deviceScale : undefined) ?? this.planned?.[k];
      const b = now[k];
      return a !== undefined && b !== undefined && a > 0 && b > 0 && Math.abs(Math.log(b / a)) > limit;
    });
  }

  /**
   * The replan fields of the next offload (SLA and context), or undefined in the steady state: the edge then
   * plans nothing and the plan in force stays.
   */
  replanFields(deviceScale: number | undefined): { context: ClientContext; sla: Sla } | undefined {
    const context = this.context(deviceScale);
    if (!this.replanDue && !this.drifted(context) && this.planned) return undefined;
    this.replanDue = false;
    this.planned = context;
    this.sinceEdge = 0;
    return { context, sla: this.o.sla };
  }

  /** An offload answered: feed the profiler (link and server speed) and take the edge's next plan. */
  onResult(
    manifest: ModelManifest,
    r: { split: number; bodyBytes: number; roundTripMs: number; message: ResultMessage },
  ): void {
    const m = r.message;
    this.profiler.observeOffload(r.bodyBytes, Math.max(0, r.roundTripMs - m.serverMs - m.queueMs));
    if (m.status === 'done' && manifest.profile) {
      const offline = offlineServerMs(costModel(manifest), r.split, m.blocksRun, m.exit);
      this.profiler.observeServer(offline, m.serverMs);
    }
    // Absent plan: unchanged (protocol 3 sends a plan only when it differs from the one the offload ran).
    if (m.plan) this.adopt(m.plan, 'edge');
  }

  /** The edge or the server could not be used: plan on the device until a refresh reaches the edge again. */
  onOffloadFailure(manifest: ModelManifest, deviceScale: number | undefined): void {
    this.planLocally(manifest, deviceScale);
  }

  /**
   * When an offload of `bytes` at `split` should be answered, ms after it leaves, from what the profiler measured:
   * L + O + bytes / B + the server's time for every remaining block (no server exit assumed). Undefined until a
   * round trip has been measured.
   */
  expectedAnswerMs(manifest: ModelManifest, split: number, bytes: number): number | undefined {
    const p = this.profiler;
    if (p.rttMs === undefined) return undefined;
    const fixed = Math.max(0, p.rttMs + (p.offloadOverheadMs ?? 0));
    const link = p.bandwidthBps ? (bytes / p.bandwidthBps) * 1000 : 0;
    const server = manifest.profile
      ? (p.serverScale ?? 1) *
        offlineServerMs(costModel(manifest), split, manifest.blocks.length - split, null)
      : 0;
    return fixed + link + server;
  }

  /** A plan request is in flight (its answer should be read promptly, or its round trip is mismeasured). */
  get refreshPending(): boolean {
    return this.refreshing !== undefined;
  }

  async whenIdle(): Promise<void> {
    await this.refreshing;
  }
}
