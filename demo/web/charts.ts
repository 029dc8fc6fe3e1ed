// Running charts as plain SVG (no chart library: three small fixed charts do not justify a dependency, and hand
// -made SVG keeps the text accessible and the page bundle ~30 KB): latency per request coloured by who decided,
// where requests were decided, and which exit answered (device vs server).

import type { DecidedBy } from '../../client/index.js';
import { fmtMs, h, s } from './dom.js';
import { DECIDED_COLOUR, type RequestRecord } from './request-record.js';

const DECIDERS: DecidedBy[] = ['device', 'device-race', 'server', 'device-fallback'];
const SHORT: Record<DecidedBy, string> = {
  device: 'device',
  'device-race': 'device (race)',
  server: 'server',
  'device-fallback': 'fallback',
};

const done = (rs: RequestRecord[]) => rs.filter((r) => r.result);

function median(xs: number[]): number {
  const s2 = [...xs].sort((a, b) => a - b);
  return s2.length ? s2[Math.floor(s2.length / 2)]! : NaN;
}

export function latencyChart(records: RequestRecord[]): SVGSVGElement {
  const rs = done(records).slice(-40);
  const W = 320;
  const H = 140;
  const lat = rs.map((r) => r.result!.timings.totalMs);
  const max = Math.max(10, ...lat) * 1.1;
  const med = median(lat);
  const svg = s('svg', {
    viewBox: `0 0 ${W} ${H}`,
    role: 'img',
    'aria-label': rs.length
      ? `Latency of the last ${rs.length} requests: median ${fmtMs(med)}, max ${fmtMs(Math.max(...lat))}`
      : 'No requests yet',
  });
  const bw = (W - 40) / 40;
  rs.forEach((r, i) => {
    const v = r.result!.timings.totalMs;
    const bh = (v / max) * (H - 24);
    svg.append(
      s(
        'rect',
        {
          x: 36 + i * bw,
          y: H - 16 - bh,
          width: Math.max(1, bw - 1),
          height: bh,
          fill: DECIDED_COLOUR[r.result!.decidedBy],
        },
        s('title', {}, `#${r.n}: ${fmtMs(v)} (${SHORT[r.result!.decidedBy]})`),
      ),
    );
  });
  if (rs.length) {
    const my = H - 16 - (med / max) * (H - 24);
    svg.append(
      s('line', { x1: 36, x2: W, y1: my, y2: my, stroke: '#111', 'stroke-dasharray': '4 3' }),
      s('text', { x: W - 2, y: my - 3, class: 'tick', 'text-anchor': 'end' }, `median ${fmtMs(med)}`),
    );
  }
  svg.append(
    s('text', { x: 32, y: 12, class: 'tick', 'text-anchor': 'end' }, String(Math.round(max))),
    s('text', { x: 32, y: H - 16, class: 'tick', 'text-anchor': 'end' }, '0'),
    s('text', { x: 36, y: H - 3, class: 'tick' }, `last ${rs.length} requests →`),
  );
  return svg;
}

export function decidedChart(records: RequestRecord[]): HTMLElement {
  const rs = done(records);
  const counts = DECIDERS.map((d) => rs.filter((r) => r.result!.decidedBy === d).length);
  const total = Math.max(1, rs.length);
  const W = 320;
  const svg = s('svg', { viewBox: `0 0 ${W} 28`, 'aria-hidden': 'true' });
  let x0 = 0;
  counts.forEach((c, i) => {
    const w = (c / total) * W;
    if (c) svg.append(s('rect', { x: x0, y: 4, width: w, height: 20, fill: DECIDED_COLOUR[DECIDERS[i]!] }));
    x0 += w;
  });
  const legend = h(
    'ul',
    { class: 'legend' },
    ...DECIDERS.map((d, i) =>
      h(
        'li',
        {},
        h('span', { class: 'swatch', style: `background:${DECIDED_COLOUR[d]}` }),
        `${SHORT[d]}: ${counts[i]}`,
      ),
    ),
  );
  return h('div', {}, svg, legend);
}

export function exitHistogram(records: RequestRecord[], exits: number): SVGSVGElement {
  const rs = done(records);
  const W = 320;
  const H = 130;
  const onDevice = Array<number>(exits).fill(0);
  const onServer = Array<number>(exits).fill(0);
  for (const r of rs) (r.result!.decidedBy === 'server' ? onServer : onDevice)[r.result!.exit]!++;
  const max = Math.max(1, ...onDevice.map((v, i) => v + onServer[i]!));
  const bw = (W - 20) / exits;
  const svg = s('svg', {
    viewBox: `0 0 ${W} ${H}`,
    role: 'img',
    'aria-label': `Answers per exit: ${onDevice.map((v, i) => `exit ${i}: ${v} on device, ${onServer[i]} on server`).join('; ')}`,
  });
  for (let e = 0; e < exits; e++) {
    const dh = (onDevice[e]! / max) * (H - 30);
    const sh = (onServer[e]! / max) * (H - 30);
    const x = 10 + e * bw + 4;
    svg.append(
      s('rect', { x, y: H - 16 - dh, width: bw - 8, height: dh, fill: DECIDED_COLOUR.device }),
      s('rect', { x, y: H - 16 - dh - sh, width: bw - 8, height: sh, fill: DECIDED_COLOUR.server }),
      s(
        'text',
        { x: x + (bw - 8) / 2, y: H - 3, class: 'tick', 'text-anchor': 'middle' },
        e === exits - 1 ? 'final' : `exit ${e}`,
      ),
    );
    if (onDevice[e]! + onServer[e]!)
      svg.append(
        s(
          'text',
          { x: x + (bw - 8) / 2, y: H - 20 - dh - sh, class: 'tick', 'text-anchor': 'middle' },
          String(onDevice[e]! + onServer[e]!),
        ),
      );
  }
  return svg;
}
