// Draws the evaluation's figures: Vega-Lite specs compiled with `vega-lite` and rendered to SVG by `vega`'s
// headless View in Node (no browser, no native canvas). One SVG per experiment under bench/figures/.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { EvalResults } from './results.js';

async function render(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}

const logX = (title: string) => ({
  field: 'x',
  type: 'quantitative' as const,
  scale: { type: 'log' as const },
  title,
});

function line(
  title: string,
  values: object[],
  x: object,
  yTitle: string,
  colorTitle = 'policy',
): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width: 420,
    height: 240,
    data: { values },
    mark: { type: 'line', point: true },
    encoding: {
      x,
      y: { field: 'y', type: 'quantitative', title: yTitle },
      color: { field: 'series', type: 'nominal', title: colorTitle },
    },
  } as TopLevelSpec;
}

export async function drawFigures(r: EvalResults, dir: string): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const figs: Array<[string, TopLevelSpec]> = [];
  const bw = r.bandwidth.flatMap((p) =>
    p.results.map((m) => ({ x: p.mbps, y: m.summary.meanMs, series: m.policy })),
  );
  figs.push([
    'fig1-latency-vs-bandwidth.svg',
    line(
      '1. Mean latency vs bandwidth (accuracy floor)',
      bw,
      logX('bandwidth, Mbit/s (log)'),
      'mean latency, ms',
    ),
  ]);
  const tp = r.bandwidth.flatMap((p) =>
    p.results.map((m) => ({ x: p.mbps, y: m.summary.throughputRps, series: m.policy })),
  );
  figs.push([
    'fig1b-throughput-vs-bandwidth.svg',
    line('1b. Throughput of one device vs bandwidth', tp, logX('bandwidth, Mbit/s (log)'), 'inferences / s'),
  ]);
  const ld = r.serverLoad.flatMap((p) =>
    p.results.map((m) => ({ x: p.level, y: m.summary.meanMs, series: m.policy })),
  );
  figs.push([
    'fig2-latency-vs-server-load.svg',
    line(
      '2. Mean latency vs background load on the backend',
      ld,
      { field: 'x', type: 'quantitative', title: 'concurrent background requests' },
      'mean latency, ms',
    ),
  ]);
  const slaX = { field: 'x', type: 'quantitative', scale: { type: 'log' }, title: 'latency SLA, ms (log)' };
  figs.push([
    'fig3a-accuracy-vs-sla.svg',
    line(
      '3a. Measured accuracy vs latency SLA',
      r.sla.flatMap((p) =>
        p.results.map((m) => ({ x: p.slaMs, y: m.summary.accuracy * 100, series: m.policy })),
      ),
      slaX,
      'top-1 accuracy, %',
    ),
  ]);
  figs.push([
    'fig3b-server-time-vs-sla.svg',
    line(
      '3b. Server compute per request vs latency SLA',
      r.sla.flatMap((p) =>
        p.results.map((m) => ({ x: p.slaMs, y: m.summary.serverMsPerRequest, series: m.policy })),
      ),
      slaX,
      'server ms / request',
    ),
  ]);
  if (r.trace) {
    // At most ~400 points, so the SVG stays small enough to commit.
    const every = Math.max(1, Math.ceil(r.trace.rows.length / 400));
    const rows = r.trace.rows.filter((_, i) => i % every === 0);
    const panel = (field: 'mbps' | 'split' | 'threshold' | 'latencyMs', title: string, log = false) => ({
      width: 520,
      height: 110,
      mark: { type: field === 'latencyMs' ? 'point' : 'line', interpolate: 'step-after' },
      encoding: {
        x: { field: 'tMs', type: 'quantitative', title: 'time, ms' },
        y: { field, type: 'quantitative', title, ...(log ? { scale: { type: 'log' } } : {}) },
      },
    });
    figs.push([
      'fig4-dynamic-trace.svg',
      {
        $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
        title: '4. SPINN on a changing link: bandwidth, chosen split and threshold, latency',
        data: { values: rows },
        vconcat: [
          panel('mbps', 'Mbit/s (log)', true),
          panel('split', 'split (28 = device)'),
          panel('threshold', 'threshold'),
          panel('latencyMs', 'latency, ms (log)', true),
        ],
      } as TopLevelSpec,
    ]);
  }
  figs.push([
    'fig5-resilience.svg',
    {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      title: '5. Share of requests answered within the SLA under failures',
      width: 110,
      height: 200,
      data: {
        values: r.resilience.flatMap((p) =>
          p.results.map((m) => ({
            scenario: p.scenario,
            policy: m.label ?? m.policy,
            within: (m.summary.withinSlaShare ?? 0) * 100,
          })),
        ),
      },
      mark: 'bar',
      encoding: {
        column: { field: 'scenario', type: 'nominal' },
        x: { field: 'policy', type: 'nominal', title: null },
        y: { field: 'within', type: 'quantitative', title: 'within SLA, %', scale: { domain: [0, 100] } },
        color: { field: 'policy', type: 'nominal' },
      },
    } as TopLevelSpec,
  ]);
  figs.push([
    'fig6-oracle.svg',
    line(
      '6. SPINN vs the per-sample oracle',
      r.oracle.flatMap((o) => [
        { x: o.mbps, y: o.spinnMeanMs, series: 'spinn (measured)' },
        { x: o.mbps, y: o.oracleMeanMs, series: 'oracle (lower bound)' },
      ]),
      logX('bandwidth, Mbit/s (log)'),
      'mean latency, ms',
      'system',
    ),
  ]);
  const written: string[] = [];
  for (const [name, spec] of figs) {
    writeFileSync(join(dir, name), await render(spec));
    written.push(name);
  }
  return written;
}
