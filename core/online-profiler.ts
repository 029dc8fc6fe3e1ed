// SPINN's online profiler: turns live measurements into the context the scheduler reads. Device scale factor
// SF = T_real / T_offline (applied to every block), server scale the same against the server-estimate profile
// (server time as reported, or inferred as T_response − (L + O + D/B) when not), and the link's latency L and
// bandwidth B as exponential moving averages of observed transfers. An offload costs more than a small request's
// round trip (the edge's request state and backend hop, and the client's own HTTP work, which a throttled device
// does slowly), so offloads measure that excess separately: the per-offload overhead O. L then stays the link's
// latency, learned from plan requests, which keeps working while the device runs alone and sends no offloads. O is
// signed: a plan request answered while the device computes is read late on a slow device, so its L can exceed
// what an offload's fixed part really costs, and the offloads themselves then correct it (L + O ≥ 0). Pure state,
// no clocks: callers pass measured times.

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
  constructor(
    private readonly alpha: number,
    private readonly signed = false,
  ) {}
  add(x: number): void {
    if (!Number.isFinite(x) || (x < 0 && !this.signed)) return;
    this.value = this.value === undefined ? x : this.alpha * x + (1 - this.alpha) * this.value;
  }
}

export class OnlineProfiler {
  private readonly sf: Ewma;
  private readonly ss: Ewma;
  private readonly latency: Ewma;
  /** Moving average of ms per byte (the inverse bandwidth averages better than bandwidth itself). */
  private readonly msPerByte: Ewma;
  private readonly overhead: Ewma;
  private readonly small: number;
  private readonly minMs: number;

  constructor(o: OnlineProfilerOptions = {}) {
    const a = o.alpha ?? 0.5;
    this.sf = new Ewma(a);
    this.ss = new Ewma(a);
    this.latency = new Ewma(a);
    this.msPerByte = new Ewma(a);
    this.overhead = new Ewma(a, true);
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
  }

  /**
   * One offload answered: `bytes` moved in total and `ms` of its round trip that was not server compute or queueing.
   * That is L + O + bytes / B: one equation, two unknowns, so each offload updates one of them from the other's
   * current value. A small offload measures O (its bytes cost little); a large one B, with the O known so far —
   * or O when B is known and O is not yet. Before any L is known the offload stands in for a plain transfer.
   */
  observeOffload(bytes: number, ms: number): void {
    if (!(ms >= 0) || !(bytes >= 0)) return;
    const l = this.latency.value;
    if (l === undefined) return this.observeTransfer(bytes, ms);
    const o = this.overhead.value;
    const perByte = this.msPerByte.value;
    if (bytes > this.small && (o !== undefined || perByte === undefined)) {
      this.msPerByte.add(Math.max(this.minMs, ms - l - (o ?? 0)) / bytes);
      return;
    }
    this.overhead.add(Math.max(-l, ms - l - bytes * (perByte ?? 0)));
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
    const perByte = this.msPerByte.value;
    if (l === undefined || perByte === undefined) return undefined;
    return Math.max(0, responseMs - (l + (this.overhead.value ?? 0) + bytes * perByte));
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
    return this.overhead.value;
  }
  /** Bytes per second. */
  get bandwidthBps(): number | undefined {
    const p = this.msPerByte.value;
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
