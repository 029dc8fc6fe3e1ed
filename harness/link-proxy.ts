// A user-space emulated network link: a TCP proxy placed between the client and the edge worker that really
// limits bandwidth and adds delay, loss and outages, fixed or following a time trace. The kernel here has no
// `netem`, so delay, loss and outages can only be produced in user space; bandwidth can come from here or from the
// kernel (`tbf` in a network namespace, see netns-link.ts), and every run says which one produced it.
//
// Model (per direction, shared by every connection through the proxy, like one access link):
// - Bandwidth: a FIFO link of `mbps` — each segment (≤ SEGMENT bytes) leaves when the previous one has been
//   serialised (a token bucket on bytes whose bucket holds one segment), so a body of B bytes takes B·8/mbps µs.
// - Delay: every segment arrives rttMs / 2 after it has been serialised (propagation), in order per connection.
// - Loss: the proxy carries TCP, whose bytes are never lost for the application: TCP retransmits. What loss does to
//   HTTP over TCP is (a) delay — a lost segment and everything behind it on that connection waits a retransmission
//   timeout (RTO = max(200 ms, 2·RTT), Linux's minimum RTO) — and (b) sometimes a broken connection. So
//   `segmentLossRate` delays each segment by one RTO with that probability, and `resetRate` resets the connection
//   (RST both ways) with that probability per client→server segment; the client sees ECONNRESET mid-request.
// - Outages: 'refuse' resets open connections and every new one until the end (server unreachable, fast fail);
//   'blackhole' accepts connections but moves no byte either way until the end (packets vanish, the client only
//   learns from its timeout). Bytes held by a black hole are delivered when it ends, if the connection is still open.

import { createServer, connect, type Server, type Socket } from 'node:net';
import { conditionsAt, describeConditions, type LinkConditions, type TracePoint } from './link-trace.js';

export const SEGMENT = 4096;
const MIN_RTO_MS = 200;

export type OutageMode = 'refuse' | 'blackhole';

export interface LinkLoss {
  /** Probability that a segment is lost once (delayed by one RTO). */
  segmentLossRate?: number;
  /** Probability, per client→server segment, that the connection is reset. */
  resetRate?: number;
}

export interface LinkProxyOptions {
  targetHost?: string;
  targetPort: number;
  listenHost?: string;
  listenPort?: number;
  /** Fixed conditions (default unlimited, 0 ms). Ignored while a trace is set. */
  conditions?: LinkConditions;
  trace?: TracePoint[];
  traceLoop?: boolean;
  loss?: LinkLoss;
  /**
   * Who limits bandwidth: 'proxy' (this proxy) or 'kernel' (tbf on the path in front of it: the proxy then only
   * delays, and conditions' mbps is recorded for the label). Default 'proxy'.
   */
  bandwidthBy?: 'proxy' | 'kernel';
  /** Random source in [0, 1) for loss decisions (default Math.random); inject a seeded one for repeatable runs. */
  random?: () => number;
}

export interface LinkStats {
  connections: number;
  bytesUp: number;
  bytesDown: number;
  segmentsLost: number;
  resets: number;
  refused: number;
  /**
   * Time the link spent serialising segments per direction, ms, from the configured rate: the proxy's own schedule,
   * which tests can check exactly while the wall clock of a busy machine only bounds it from below.
   */
  txMsUp: number;
  txMsDown: number;
}

export interface LinkProxy {
  readonly url: string;
  readonly port: number;
  readonly stats: LinkStats;
  /** Conditions in force now. */
  current(): LinkConditions;
  set(conditions: LinkConditions): void;
  /** Starts following a trace from now (replaces fixed conditions until cleared with set()). */
  follow(trace: TracePoint[], loop?: boolean): void;
  setLoss(loss: LinkLoss): void;
  /** Starts an outage now, for `durationMs` (or until endOutage()). */
  outage(mode: OutageMode, durationMs?: number): void;
  endOutage(): void;
  /** How the current conditions are produced, for labels in reports. */
  describe(): string;
  close(): Promise<void>;
}

interface Direction {
  /** When the link is free to serialise the next segment (performance.now ms). */
  freeAt: number;
}

interface Pending {
  data: Buffer;
  dir: 'up' | 'down';
}

export async function startLinkProxy(o: LinkProxyOptions): Promise<LinkProxy> {
  const targetHost = o.targetHost ?? '127.0.0.1';
  const random = o.random ?? Math.random;
  let fixed: LinkConditions = o.conditions ?? { mbps: Infinity, rttMs: 0 };
  let trace: { points: TracePoint[]; loop: boolean; t0: number } | undefined = o.trace
    ? { points: o.trace, loop: o.traceLoop ?? false, t0: performance.now() }
    : undefined;
  let loss: LinkLoss = { ...o.loss };
  let outage: { mode: OutageMode; timer?: NodeJS.Timeout } | undefined;
  const stats: LinkStats = {
    connections: 0,
    bytesUp: 0,
    bytesDown: 0,
    segmentsLost: 0,
    resets: 0,
    refused: 0,
    txMsUp: 0,
    txMsDown: 0,
  };
  const dirs: Record<'up' | 'down', Direction> = { up: { freeAt: 0 }, down: { freeAt: 0 } };
  const open = new Set<{ client: Socket; upstream: Socket; held: Pending[]; reset(): void }>();

  const current = (): LinkConditions =>
    trace ? conditionsAt(trace.points, performance.now() - trace.t0, trace.loop) : fixed;

  /** Schedules one segment: serialisation on the shared direction, then propagation; returns its due time. */
  function dueTime(bytes: number, dir: 'up' | 'down', after: number): number {
    const c = current();
    const now = performance.now();
    const d = dirs[dir];
    const limited = (o.bandwidthBy ?? 'proxy') === 'proxy' && Number.isFinite(c.mbps);
    const txMs = limited ? (bytes * 8) / (c.mbps * 1000) : 0;
    if (dir === 'up') stats.txMsUp += txMs;
    else stats.txMsDown += txMs;
    const start = Math.max(now, d.freeAt);
    d.freeAt = start + txMs;
    let due = d.freeAt + c.rttMs / 2;
    if (loss.segmentLossRate && random() < loss.segmentLossRate) {
      stats.segmentsLost++;
      due += Math.max(MIN_RTO_MS, 2 * c.rttMs);
    }
    return Math.max(due, after);
  }

  const server: Server = createServer((client) => {
    stats.connections++;
    if (outage?.mode === 'refuse') {
      stats.refused++;
      client.resetAndDestroy();
      return;
    }
    const upstream = connect({ host: targetHost, port: o.targetPort, noDelay: true });
    // The proxy paces segments itself; with Nagle on, a segment written while the previous one is unacknowledged
    // waits for the receiver's delayed ACK (40 ms on Linux), and every transfer of more than one segment paid it.
    client.setNoDelay(true);
    const lastDue = { up: 0, down: 0 };
    const inFlight = { up: 0, down: 0 };
    const conn = {
      client,
      upstream,
      held: [] as Pending[],
      reset() {
        open.delete(conn);
        if (!client.destroyed) client.resetAndDestroy();
        if (!upstream.destroyed) upstream.resetAndDestroy();
      },
    };
    open.add(conn);
    const close = () => {
      open.delete(conn);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close);
    upstream.on('error', close);
    client.on('close', close);
    upstream.on('close', close);

    const send = (p: Pending) => {
      const src = p.dir === 'up' ? client : upstream;
      const dst = p.dir === 'up' ? upstream : client;
      for (let off = 0; off < p.data.length; off += SEGMENT) {
        const seg = p.data.subarray(off, off + SEGMENT);
        if (p.dir === 'up' && loss.resetRate && random() < loss.resetRate) {
          stats.resets++;
          conn.reset();
          return;
        }
        const due = dueTime(seg.length, p.dir, lastDue[p.dir]);
        lastDue[p.dir] = due;
        inFlight[p.dir] += seg.length;
        if (inFlight[p.dir] > 1 << 20) src.pause(); // bounded buffering: back-pressure on the sender
        setTimeout(
          () => {
            inFlight[p.dir] -= seg.length;
            if (inFlight[p.dir] < 1 << 19) src.resume();
            if (dst.destroyed) return;
            if (p.dir === 'up') stats.bytesUp += seg.length;
            else stats.bytesDown += seg.length;
            dst.write(seg);
          },
          Math.max(0, due - performance.now()),
        );
      }
    };
    const onData = (dir: 'up' | 'down') => (data: Buffer) => {
      if (outage?.mode === 'blackhole') conn.held.push({ data, dir });
      else send({ data, dir });
    };
    client.on('data', onData('up'));
    upstream.on('data', onData('down'));
    // Half-closes travel after the data already scheduled.
    client.on('end', () => setTimeout(() => upstream.end(), Math.max(0, lastDue.up - performance.now())));
    upstream.on('end', () => setTimeout(() => client.end(), Math.max(0, lastDue.down - performance.now())));
    (conn as { flush?: () => void }).flush = () => {
      const held = conn.held.splice(0);
      for (const p of held) send(p);
    };
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.listenPort ?? 0, o.listenHost ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as { port: number }).port;

  const endOutage = () => {
    if (!outage) return;
    clearTimeout(outage.timer);
    outage = undefined;
    for (const c of open) (c as { flush?: () => void }).flush?.();
  };

  return {
    url: `http://${o.listenHost ?? '127.0.0.1'}:${port}`,
    port,
    stats,
    current,
    set(c) {
      fixed = c;
      trace = undefined;
    },
    follow(points, loop = false) {
      trace = { points, loop, t0: performance.now() };
    },
    setLoss(l) {
      loss = { ...l };
    },
    outage(mode, durationMs) {
      endOutage();
      outage = { mode };
      if (mode === 'refuse') for (const c of [...open]) c.reset();
      if (durationMs !== undefined) outage.timer = setTimeout(endOutage, durationMs);
    },
    endOutage,
    describe() {
      const c = current();
      const bw =
        (o.bandwidthBy ?? 'proxy') === 'kernel'
          ? `bandwidth by kernel tbf (netns veth), delay by user-space proxy`
          : `bandwidth and delay by user-space TCP proxy`;
      const l =
        loss.segmentLossRate || loss.resetRate
          ? `, loss ${((loss.segmentLossRate ?? 0) * 100).toFixed(1)} % segments (+RTO), resets ${((loss.resetRate ?? 0) * 100).toFixed(1)} %`
          : '';
      return `${trace ? 'trace' : describeConditions(c)}; ${bw}${l}${outage ? `; outage (${outage.mode})` : ''}`;
    },
    async close() {
      endOutage();
      for (const c of [...open]) c.reset();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
