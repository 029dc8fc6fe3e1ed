// SPINN's online profiler: turns live measurements into the context the scheduler reads. Device scale factor
// SF = T_real / T_offline (applied to every block), server scale the same against the server-estimate profile
// (server time as reported, or inferred from the response time when not), and the link's latency L as an
// exponential moving average of plan-request round trips. An offload costs more than a small request's round trip
// (the edge's request state and backend hop, and the client's own HTTP work, which a throttled device does slowly),
// so offloads are fitted on their own — fixed + bytes / B over recent offloads (offload-cost-fit.ts) — and the
// fixed part is reported as L plus a per-offload overhead O. L keeps working while the device runs alone and sends
// no offloads. O is signed: a plan request answered while the device computes can read slow, and the offloads
// themselves then correct it (L + O ≥ 0). Pure state, no clocks: callers pass measured times.

import { OffloadCostFit, type OffloadCost } from './offload-cost-fit.js';
import { DEFAULT_CONTEXT } from './scheduler-context.js';
import type { ClientContext } from './wire.js';

export interface OnlineProfilerOptions {
  /** Weight of the newest sample in every moving average (default 0.5). */
  alpha?: number;
  /** Transfers up to this many bytes count as latency probes (default 2048). */
  smallTransferBytes?: number;
  /** Shortest time attributed to the bytes of a transfer, ms, so a fast link gives a finite bandwidth. */
  minTransferMs?: number;
}

class Ewma {
  value: number | undefined;
  constructor(private readonly alpha: number) {}
  add(x: number): void {
    if (!Number.isFinite(x) || x < 0) return;
    this.value = this.value === undefined ? x : this.alpha * x + (1 - this.alpha) * this.value;
  }
}

export class OnlineProfiler {
  private readonly sf: Ewma;
  private readonly ss: Ewma;
  private readonly latency: Ewma;
  /** Moving average of ms per byte from large plain transfers (the inverse bandwidth averages better). */
  private readonly msPerByte: Ewma;
  private readonly offloads = new OffloadCostFit();
  /** The offload line, refitted whenever an offload or a transfer changes what it rests on. */
  private offloadLine: OffloadCost | undefined;
  /** The overhead O of the last fit whose slope came from the data (held while offload sizes are alike). */
  private fittedOverhead: number | undefined;
  private readonly small: number;
  private readonly minMs: number;

  constructor(o: OnlineProfilerOptions = {}) {
    const a = o.alpha ?? 0.5;
    this.sf = new Ewma(a);
    this.ss = new Ewma(a);
    this.latency = new Ewma(a);
    this.msPerByte = new Ewma(a);
    this.small = o.smallTransferBytes ?? 2048;
    this.minMs = o.minTransferMs ?? 0.05;
  }

  /** Device compute measured for some blocks and exits, and what the offline profile says they take. */
  observeDevice(measuredMs: number, offlineMs: number): void {
    if (measuredMs > 0 && offlineMs > 0) this.sf.add(measuredMs / offlineMs);
  }

  /**
   * One request–response over the link: `bytes` moved in total and `ms` of pure network time (round trip minus
   * server compute and queueing). Small transfers update the latency L; larger ones the bandwidth, from the time
   * left after L.
   */
  observeTransfer(bytes: number, ms: number): void {
    if (!(ms >= 0) || !(bytes >= 0)) return;
    if (bytes <= this.small || this.latency.value === undefined) {
      this.latency.add(ms);
      if (bytes <= this.small) return;
    }
    const l = this.latency.value ?? 0;
    this.msPerByte.add(Math.max(this.minMs, ms - l) / bytes);
    this.refitOffloads();
  }

  /**
   * One offload answered: `bytes` moved in total and `ms` of its round trip that was not server compute or queueing.
   * It joins the offload fit; before any plan request has measured L it also stands in for L.
   */
  observeOffload(bytes: number, ms: number): void {
    if (!(ms >= 0) || !(bytes >= 0)) return;
    if (this.latency.value === undefined) this.latency.add(ms);
    this.offloads.add(bytes, ms, this.hold());
    this.refitOffloads();
  }

  /** What the offload fit holds while its sizes are alike: L plus the last fitted O, and the known bandwidth. */
  private hold() {
    return {
      perByte: this.msPerByte.value ?? 1000 / DEFAULT_CONTEXT.bandwidthBps,
      fixedMs: (this.latency.value ?? 0) + (this.fittedOverhead ?? 0),
      smallBytes: this.small,
    };
  }

  /** Fits the offload line, holding the latency (plus the last fitted overhead) or the known bandwidth. */
  private refitOffloads(): void {
    if (this.offloads.size === 0) return;
    this.offloadLine = this.offloads.fit(this.hold());
    if (this.offloadLine && this.offloads.slope() !== undefined) {
      this.fittedOverhead = this.offloadLine.fixedMs - (this.latency.value ?? 0);
    }
  }

  /** ms per byte: from offloads, else from large transfers; undefined if unknown. */
  private get perByte(): number | undefined {
    return this.offloadLine?.perByte ?? this.msPerByte.value;
  }

  /**
   * Server compute for work the offline server profile puts at `offlineMs`. Without a reported time it is inferred
   * from the response time: T_server = T_response − (L + D/B).
   */
  observeServer(
    offlineMs: number,
    reportedMs: number | undefined,
    response?: { ms: number; bytes: number },
  ): void {
    const ms = reportedMs ?? (response ? this.inferServerMs(response.ms, response.bytes) : undefined);
    if (ms !== undefined && ms > 0 && offlineMs > 0) this.ss.add(ms / offlineMs);
  }

  /** T_response − (L + O + D/B) of an offload, at least 0; undefined until L and B have been measured. */
  inferServerMs(responseMs: number, bytes: number): number | undefined {
    const l = this.latency.value;
    const perByte = this.perByte;
    if (l === undefined || perByte === undefined) return undefined;
    return Math.max(0, responseMs - ((this.offloadLine?.fixedMs ?? l) + bytes * perByte));
  }

  get deviceScale(): number | undefined {
    return this.sf.value;
  }
  get serverScale(): number | undefined {
    return this.ss.value;
  }
  get rttMs(): number | undefined {
    return this.latency.value;
  }
  /** Fixed cost of an offload beyond L and its bytes, ms; negative when L overstates it (L + O ≥ 0). */
  get offloadOverheadMs(): number | undefined {
    const l = this.latency.value;
    const fixed = this.offloadLine?.fixedMs;
    return l === undefined || fixed === undefined ? undefined : fixed - l;
  }
  /** Bytes per second. */
  get bandwidthBps(): number | undefined {
    const p = this.perByte;
    return p === undefined ? undefined : 1000 / Math.max(p, 1e-9);
  }

  /** The measurements as the client reports them in its context. */
  context(): ClientContext {
    const c: ClientContext = {};
    if (this.deviceScale !== undefined) c.deviceScale = this.deviceScale;
    if (this.serverScale !== undefined) c.serverScale = this.serverScale;
    if (this.rttMs !== undefined) c.rttMs = this.rttMs;
    if (this.offloadOverheadMs !== undefined) c.offloadOverheadMs = this.offloadOverheadMs;
    if (this.bandwidthBps !== undefined) c.bandwidthBps = this.bandwidthBps;
    return c;
  }
}
