// The choice of backend for each offload: the least-loaded healthy one, and health ejection with backoff. Pure state
// and arithmetic (the clock is injected; no fetch), one pool per isolate and fleet configuration, so the routing rule
// lives in one place and is unit-tested without a network. offload-router.ts makes the calls and reports back.
//
// Load. A backend's outstanding work is estimated from two sources: the `load` its last answer reported (requests
// running and queued there, from every edge isolate) and this isolate's own in-flight count. The report is a
// snapshot; since it arrived this isolate has sent some requests and seen some finish, so the estimate is the report
// plus that change in our own in-flight count, never less than our own count. A report older than REPORT_TTL_MS
// says nothing any more (the estimate falls back to our count). A backend's capacity is its reported worker slots
// times its configured weight; the pick minimises (outstanding + 1) / capacity, the load it would have with this
// request, and breaks ties by the longest time since a backend was last picked, so equal backends share requests in
// turn (deterministic, unlike a random pick, which the tests need).
//
// Health. A backend that refuses a connection, drops it without an answer, or does not answer in time is ejected:
// out of rotation for BASE_EJECT_MS, doubled on each consecutive ejection up to MAX_EJECT_MS. Failures of requests
// already in flight when it was ejected count once. When its time is up it is due a probe (its health route; the
// router runs it in the background): a probe that answers readmits it, one that fails ejects it again for longer.
// An answered offload resets the backoff. If every candidate is ejected, the one whose ejection ends first is tried
// anyway (a fleet of one behaves as before: every request still tries its only backend).

import type { BackendLoad } from '../core/scheduler-context.js';
import type { BackendSpec } from './backends-config.js';

export const REPORT_TTL_MS = 5_000;
export const BASE_EJECT_MS = 1_000;
export const MAX_EJECT_MS = 30_000;

interface LoadReport {
  load: BackendLoad;
  outstanding: number;
  workers: number;
  at: number;
  /** This isolate's in-flight count for the backend when the report arrived. */
  inflightAtReport: number;
}

interface BackendState {
  spec: BackendSpec;
  inflight: number;
  report: LoadReport | null;
  /** Consecutive ejections (0 while healthy and answering); sets the next backoff. */
  ejections: number;
  /** Epoch ms the current ejection ends; null while in rotation. */
  ejectedUntil: number | null;
  probing: boolean;
  /** Sequence number of the last pick, for the tie-break. */
  lastPicked: number;
  picks: number;
}

/** What /healthz shows of a backend's routing state. */
export interface RoutingView {
  inRotation: boolean;
  ejectedForMs: number;
  ejections: number;
  inflight: number;
  estimatedOutstanding: number;
  reportedLoad: BackendLoad | null;
  picks: number;
}

export class BackendPool {
  private readonly states = new Map<string, BackendState>();
  private seq = 0;

  constructor(
    specs: readonly BackendSpec[],
    private readonly now: () => number = Date.now,
  ) {
    for (const spec of specs)
      this.states.set(spec.name, {
        spec,
        inflight: 0,
        report: null,
        ejections: 0,
        ejectedUntil: null,
        probing: false,
        lastPicked: 0,
        picks: 0,
      });
  }

  /**
   * The backend to send the next request to among `candidates` (names), skipping `exclude`; null when none is left.
   * Marks it picked and counts the request in flight: call `release` when its call ends, whatever the outcome.
   */
  pick(candidates: readonly BackendSpec[], exclude: ReadonlySet<string> = new Set()): BackendSpec | null {
    const pool = candidates
      .map((c) => this.states.get(c.name))
      .filter((s): s is BackendState => s !== undefined && !exclude.has(s.spec.name));
    if (!pool.length) return null;
    const now = this.now();
    const healthy = pool.filter((s) => s.ejectedUntil === null);
    const chosen = healthy.length
      ? healthy.reduce((best, s) => (this.better(s, best, now) ? s : best))
      : pool.reduce((best, s) => (s.ejectedUntil! < best.ejectedUntil! ? s : best));
    chosen.lastPicked = ++this.seq;
    chosen.picks++;
    chosen.inflight++;
    return chosen.spec;
  }

  /** The request sent to `name` ended (answered or not). */
  release(name: string): void {
    const s = this.states.get(name);
    if (s && s.inflight > 0) s.inflight--;
  }

  /** The backend answered an offload: back in rotation with a fresh backoff, and its reported load noted. */
  answered(name: string, load?: BackendLoad): void {
    const s = this.states.get(name);
    if (!s) return;
    s.ejections = 0;
    s.ejectedUntil = null;
    if (load) this.noteLoad(s, load);
  }

  /** A load report from elsewhere (the backend's /health). */
  reportLoad(name: string, load: BackendLoad): void {
    const s = this.states.get(name);
    if (s) this.noteLoad(s, load);
  }

  /** The backend refused, dropped the connection or timed out: out of rotation (once per ejection). */
  failed(name: string): void {
    const s = this.states.get(name);
    if (!s || s.ejectedUntil !== null) return;
    this.eject(s);
  }

  /** Ejected backends whose time is up and that no probe is checking yet; each is marked as being probed. */
  takeProbesDue(): BackendSpec[] {
    const now = this.now();
    const due = [...this.states.values()].filter(
      (s) => s.ejectedUntil !== null && s.ejectedUntil <= now && !s.probing,
    );
    for (const s of due) s.probing = true;
    return due.map((s) => s.spec);
  }

  /** The outcome of a probe started by `takeProbesDue`. */
  probed(name: string, ok: boolean): void {
    const s = this.states.get(name);
    if (!s) return;
    s.probing = false;
    if (s.ejectedUntil === null) return; // an answered offload readmitted it meanwhile
    if (ok) s.ejectedUntil = null;
    else this.eject(s);
  }

  view(name: string): RoutingView | null {
    const s = this.states.get(name);
    if (!s) return null;
    const now = this.now();
    return {
      inRotation: s.ejectedUntil === null,
      ejectedForMs: s.ejectedUntil === null ? 0 : Math.max(0, s.ejectedUntil - now),
      ejections: s.ejections,
      inflight: s.inflight,
      estimatedOutstanding: this.outstanding(s, now),
      reportedLoad: s.report?.load ?? null,
      picks: s.picks,
    };
  }

  private eject(s: BackendState): void {
    s.ejections++;
    const backoff = Math.min(MAX_EJECT_MS, BASE_EJECT_MS * 2 ** (s.ejections - 1));
    s.ejectedUntil = this.now() + backoff;
  }

  private noteLoad(s: BackendState, load: BackendLoad): void {
    s.report = {
      load,
      outstanding: Math.max(0, load.busy) + Math.max(0, load.queued),
      workers: Math.max(1, load.workers),
      at: this.now(),
      inflightAtReport: s.inflight,
    };
  }

  private outstanding(s: BackendState, now: number): number {
    const r = s.report;
    if (!r || now - r.at > REPORT_TTL_MS) return s.inflight;
    return Math.max(s.inflight, r.outstanding + s.inflight - r.inflightAtReport);
  }

  /** Load per unit of capacity with one more request. */
  private score(s: BackendState, now: number): number {
    const workers = s.report && now - s.report.at <= REPORT_TTL_MS ? s.report.workers : 1;
    return (this.outstanding(s, now) + 1) / (workers * s.spec.weight);
  }

  private better(a: BackendState, b: BackendState, now: number): boolean {
    const sa = this.score(a, now);
    const sb = this.score(b, now);
    return sa < sb || (sa === sb && a.lastPicked < b.lastPicked);
  }
}

// One pool per isolate, rebuilt when the fleet's configuration changes (a new secret value starts new isolates on
// Cloudflare anyway; locally a test may run edges with different fleets in one process).
let current: { key: string; pool: BackendPool } | null = null;

export function poolFor(specs: readonly BackendSpec[]): BackendPool {
  const key = JSON.stringify(specs);
  if (current?.key !== key) current = { key, pool: new BackendPool(specs) };
  return current.pool;
}
