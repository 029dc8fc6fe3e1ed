// One request as a timeline (plain SVG): lanes for the device's blocks before the split (with the exits checked),
// the uplink (the emulated hold, then the real transfer, with bytes), the server (the edge's share, queue and
// compute, from the edge's Server-Timing header), the device's racing continuation after the split, and markers
// for the answer and the cancel.
// Below it, the same facts as text, for screen readers and for copying.

import { fmtBytes, fmtMs, h, s } from './dom.js';
import { DECIDED_COLOUR, DECIDED_LABEL, type RequestRecord, type StepEvent } from './request-record.js';

const W = 640;
const LANE = 20;
const LEFT = 92;
const LANES = ['device', 'uplink', 'server', 'device ∥'] as const;
const COLOURS = {
  block: '#2563eb',
  after: '#60a5fa',
  exitTaken: '#16a34a',
  exitNo: '#9ca3af',
  held: '#fcd34d',
  net: '#f59e0b',
  edge: '#94a3b8',
  queue: '#c4b5fd',
  server: '#7c3aed',
  cancel: '#dc2626',
};

type Span = [number, number];

/**
 * The server lane: the edge's own share, the backend's queue and its compute, from the edge's Server-Timing header
 * when it came (else the result's queue and compute), laid out to end when the answer arrived.
 */
function serverSpan(r: RequestRecord): { edge?: Span; queue: Span; compute: Span } | undefined {
  const off = r.link.offload;
  const res = r.result;
  const timing = off?.serverTiming;
  const serverMs = timing?.compute ?? res?.timings.serverMs ?? null;
  if (!off?.answeredAt || !res || serverMs === null) return undefined;
  const end = off.answeredAt - r.t0;
  const sent = off.sentAt - r.t0;
  const compute = Math.min(serverMs, end - sent);
  const queue = Math.min(timing?.queue ?? res.timings.queueMs ?? 0, Math.max(0, end - compute - sent));
  const start = end - compute - queue;
  const edge = timing?.edge !== undefined ? Math.min(timing.edge, Math.max(0, start - sent)) : undefined;
  return {
    ...(edge !== undefined ? { edge: [start - edge, start] as Span } : {}),
    queue: [start, end - compute],
    compute: [end - compute, end],
  };
}

export function renderTimeline(r: RequestRecord): HTMLElement {
  const off = r.link.offload;
  const span = serverSpan(r);
  const total = Math.max(
    1,
    r.end ?? 0,
    ...r.steps.map((st) => st.end),
    off?.answeredAt ? off.answeredAt - r.t0 : 0,
    r.link.cancel ? r.link.cancel.at - r.t0 : 0,
  );
  const x = (ms: number) => LEFT + (Math.max(0, ms) / total) * (W - LEFT - 8);
  const y = (lane: number) => 4 + lane * LANE;
  const rect = (lane: number, a: number, b: number, fill: string, title: string, extra = {}) =>
    s(
      'rect',
      { x: x(a), y: y(lane) + 3, width: Math.max(1.5, x(b) - x(a)), height: LANE - 6, fill, ...extra },
      s('title', {}, title),
    );
  const svg = s('svg', {
    viewBox: `0 0 ${W} ${4 + LANES.length * LANE + 18}`,
    class: 'timeline',
    role: 'img',
    'aria-label': summary(r),
  });
  LANES.forEach((name, i) => {
    svg.append(
      s('text', { x: 4, y: y(i) + LANE / 2 + 4, class: 'lane' }, name),
      s('line', { x1: LEFT, x2: W - 8, y1: y(i) + LANE, y2: y(i) + LANE, class: 'grid' }),
    );
  });
  const step = (st: StepEvent) => {
    const lane = st.phase === 'device' ? 0 : 3;
    if (st.kind === 'block') {
      svg.append(
        rect(
          lane,
          st.start,
          st.end,
          st.phase === 'device' ? COLOURS.block : COLOURS.after,
          `block ${st.index}: ${fmtMs(st.end - st.start)}`,
        ),
      );
    } else {
      const cx = x(st.end);
      const cy = y(lane) + LANE / 2;
      svg.append(
        s(
          'path',
          {
            d: `M${cx} ${cy - 7}L${cx + 5} ${cy}L${cx} ${cy + 7}L${cx - 5} ${cy}Z`,
            fill: st.taken ? COLOURS.exitTaken : COLOURS.exitNo,
            stroke: '#fff',
            'stroke-width': 0.8,
          },
          s(
            'title',
            {},
            `exit ${st.index}: confidence ${(st.confidence! * 100).toFixed(1)} % — ${st.taken ? 'taken' : 'not confident enough'}`,
          ),
        ),
      );
    }
  };
  r.steps.forEach(step);
  if (off) {
    const sent = off.sentAt - r.t0;
    if (off.heldMs > 0)
      svg.append(
        rect(1, off.at - r.t0, sent, COLOURS.held, `emulated link: held ${fmtMs(off.heldMs)}`, {
          class: 'held',
        }),
      );
    const netEnd = off.answeredAt
      ? off.answeredAt - r.t0
      : r.link.cancel
        ? r.link.cancel.at - r.t0
        : (r.end ?? sent);
    svg.append(
      rect(
        1,
        sent,
        netEnd,
        COLOURS.net,
        `offload ${fmtBytes(off.bytes)} sent → ${off.answeredAt ? 'answered' : 'abandoned'}`,
        { opacity: 0.55 },
      ),
      s(
        'text',
        { x: x(off.at - r.t0) + 3, y: y(1) + LANE / 2 + 4, class: 'bar-label' },
        `↑ ${fmtBytes(off.bytes)}`,
      ),
    );
  }
  if (span) {
    const blocks = r.result?.blocks.server;
    if (span.edge)
      svg.append(
        rect(
          2,
          span.edge[0],
          span.edge[1],
          COLOURS.edge,
          `edge: ${fmtMs(span.edge[1] - span.edge[0])} (Server-Timing)`,
        ),
      );
    svg.append(
      rect(
        2,
        span.queue[0],
        span.queue[1],
        COLOURS.queue,
        `queued ${fmtMs(span.queue[1] - span.queue[0])} (reported)`,
      ),
      rect(
        2,
        span.compute[0],
        span.compute[1],
        COLOURS.server,
        `server: ${blocks ?? '?'} blocks in ${fmtMs(span.compute[1] - span.compute[0])} (reported)`,
      ),
    );
  }
  if (r.link.cancel) {
    const cx = x(r.link.cancel.at - r.t0);
    svg.append(
      s('line', { x1: cx, x2: cx, y1: y(1), y2: y(3), stroke: COLOURS.cancel, 'stroke-dasharray': '3 2' }),
      s(
        'text',
        { x: cx + 3, y: y(2) + LANE / 2 + 4, class: 'cancel-label', fill: COLOURS.cancel },
        '✂ cancel',
      ),
    );
  }
  if (r.result) {
    // The answer was known at totalMs (the client's clock starts a hair after t0); after it the call only waits
    // for a stopped local block to return.
    const cx = x(Math.min(r.end ?? Infinity, r.result.timings.totalMs));
    svg.append(
      s('line', {
        x1: cx,
        x2: cx,
        y1: 2,
        y2: y(LANES.length),
        stroke: DECIDED_COLOUR[r.result.decidedBy],
        'stroke-width': 2,
      }),
    );
  }
  // Axis: 0, ½ and the total.
  for (const f of [0, 0.5, 1]) {
    svg.append(
      s(
        'text',
        {
          x: x(f * total),
          y: y(LANES.length) + 13,
          class: 'tick',
          'text-anchor': f === 1 ? 'end' : f ? 'middle' : 'start',
        },
        fmtMs(f * total),
      ),
    );
  }
  return h('figure', { class: 'timeline-figure' }, svg, details(r));
}

/** One sentence for the SVG's accessible name. */
export function summary(r: RequestRecord): string {
  if (r.error) return `Request ${r.n} failed: ${r.error}`;
  const res = r.result;
  if (!res) return `Request ${r.n} running`;
  return (
    `Request ${r.n}: ${res.className} (${(res.confidence * 100).toFixed(1)} %) decided by ${DECIDED_LABEL[res.decidedBy]} ` +
    `at exit ${res.exit} in ${fmtMs(res.timings.totalMs)}; ${res.bytesSent ? `${fmtBytes(res.bytesSent)} sent` : 'nothing sent'}` +
    `${res.cancelledServer ? '; server request cancelled' : ''}.`
  );
}

function details(r: RequestRecord): HTMLElement {
  const items: string[] = [];
  for (const st of r.steps) {
    const where = st.phase === 'device' ? 'device' : 'device after split';
    items.push(
      st.kind === 'block'
        ? `${fmtMs(st.start)}: ${where} block ${st.index} (${fmtMs(st.end - st.start)})`
        : `${fmtMs(st.end)}: ${where} exit ${st.index}, confidence ${(st.confidence! * 100).toFixed(1)} % → ${st.taken ? 'taken' : 'continue'}`,
    );
  }
  const off = r.link.offload;
  if (off) {
    if (off.heldMs)
      items.push(`${fmtMs(off.at - r.t0)}: emulated uplink holds the offload ${fmtMs(off.heldMs)}`);
    items.push(`${fmtMs(off.sentAt - r.t0)}: offload sent, ${fmtBytes(off.bytes)}`);
    if (off.answeredAt) items.push(`${fmtMs(off.answeredAt - r.t0)}: edge answered HTTP ${off.status}`);
  }
  const res = r.result;
  if (res && res.blocks.server !== null)
    items.push(
      `server ran ${res.blocks.server} blocks in ${fmtMs(res.timings.serverMs)} (queued ${fmtMs(res.timings.queueMs)})`,
    );
  if (r.link.cancel)
    items.push(
      `${fmtMs(r.link.cancel.at - r.t0)}: DELETE sent (cancel), answered ${r.link.cancel.status ?? '…'}`,
    );
  if (res?.offloadError)
    items.push(`offload failed: ${res.offloadError.reason} — ${res.offloadError.message}`);
  if (res) items.push(`${fmtMs(res.timings.totalMs)}: answer (${DECIDED_LABEL[res.decidedBy]})`);
  if (r.end !== undefined) items.push(`${fmtMs(r.end)}: classify returned`);
  return h(
    'details',
    {},
    h('summary', {}, 'Steps as text'),
    h('ol', { class: 'steps' }, ...items.map((t) => h('li', {}, t))),
  );
}
