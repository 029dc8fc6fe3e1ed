// Draws the evaluation's figures: Vega-Lite specs compiled with `vega-lite` and rendered to SVG by `vega`'s
// headless View in Node (no browser, no native canvas).

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { pointLabel } from './grid.js';
import { SPINN } from './policies.js';
import type { Analysed } from './results.js';

async function render(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

/** A ratio per grid point with its CI as an error bar, and the target as a rule. */
function ratioFigure(title: string, a: Analysed, which: 'mean' | 'p95', target: number): TopLevelSpec {
  const values = a.grid.map((p) => ({
    point: pointLabel(p.point),
    spec: `${p.point.model} / ${p.point.deviceModel}`,
    ratio: which === 'mean' ? p.spinnVsBestMean : p.spinnVsBestP95,
    lo: (which === 'mean' ? p.spinnVsBestMeanCi : p.spinnVsBestP95Ci)[0],
    hi: (which === 'mean' ? p.spinnVsBestMeanCi : p.spinnVsBestP95Ci)[1],
  }));
  const x = { field: 'point', type: 'nominal', sort: null, title: null, axis: { labelAngle: -60 } };
  return {
    $schema: SCHEMA,
    title,
    data: { values },
    width: Math.max(240, values.length * 14),
    height: 220,
    layer: [
      { mark: 'rule', encoding: { x, y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' } } },
      {
        mark: { type: 'point', filled: true },
        encoding: {
          x,
          y: { field: 'ratio', type: 'quantitative', title: `SPINN / best baseline (${which})` },
          color: {
            field: 'spec',
            type: 'nominal',
            title: 'model / device model',
            legend: { labelLimit: 400 },
          },
        },
      },
      {
        data: { values: [{ t: target }] },
        mark: { type: 'rule', strokeDash: [4, 4] },
        encoding: { y: { field: 't', type: 'quantitative' } },
      },
    ],
  } as TopLevelSpec;
}

/** Mean latency of every system vs bandwidth, one panel per device class and RTT, for one model/device model. */
function latencyFigure(a: Analysed, model: string, deviceModel: string): TopLevelSpec {
  const values = a.grid
    .filter((p) => p.point.model === model && p.point.deviceModel === deviceModel)
    .flatMap((p) =>
      Object.entries(p.summaries).map(([id, s]) => ({
        mbps: p.point.mbps,
        cpu: `${Math.round(p.point.cpu * 100)} % core`,
        rtt: `RTT ${p.point.rttMs} ms`,
        policy: id.replace(' (no hedge)', ''),
        hedge: id.endsWith('(no hedge)') ? 'no hedge' : 'hedge (or on-device)',
        meanMs: s.meanMs,
      })),
    );
  return {
    $schema: SCHEMA,
    title: `Mean latency vs bandwidth: ${model}, device model ${deviceModel}`,
    data: { values },
    facet: {
      row: { field: 'cpu', type: 'nominal', title: null },
      column: { field: 'rtt', type: 'nominal', title: null },
    },
    spec: {
      width: 160,
      height: 120,
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: 'mbps', type: 'quantitative', scale: { type: 'log' }, title: 'Mbit/s (log)' },
        y: { field: 'meanMs', type: 'quantitative', scale: { type: 'log' }, title: 'mean ms (log)' },
        color: { field: 'policy', type: 'nominal' },
        strokeDash: { field: 'hedge', type: 'nominal', title: null },
      },
    },
  } as TopLevelSpec;
}

function line(title: string, values: object[], xTitle: string, yTitle: string): TopLevelSpec {
  return {
    $schema: SCHEMA,
    title,
    data: { values },
    width: 360,
    height: 220,
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'x', type: 'quantitative', title: xTitle },
      y: { field: 'y', type: 'quantitative', title: yTitle },
      color: { field: 'series', type: 'nominal', title: null },
    },
  } as TopLevelSpec;
}

export async function drawFigures(a: Analysed, dir: string): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const figs: Array<[string, TopLevelSpec]> = [];
  if (a.grid.length) {
    figs.push([
      'fig1-spinn-vs-best-mean.svg',
      ratioFigure('1. SPINN / best baseline, mean latency (95 % CI)', a, 'mean', 1),
    ]);
    figs.push([
      'fig1b-spinn-vs-best-p95.svg',
      ratioFigure('1b. SPINN / best baseline, p95 latency (95 % CI)', a, 'p95', 1.2),
    ]);
    for (const spec of new Set(a.grid.map((p) => `${p.point.model}|${p.point.deviceModel}`))) {
      const [model, deviceModel] = spec.split('|') as [string, string];
      figs.push([`fig1c-latency-${model}-${deviceModel}.svg`, latencyFigure(a, model, deviceModel)]);
    }
    const withOracle = a.grid.filter((p) => p.oracle);
    figs.push([
      'fig2-oracle.svg',
      {
        $schema: SCHEMA,
        title: '2. SPINN / pre-registered oracle per point',
        data: { values: withOracle.map((p) => ({ point: pointLabel(p.point), ratio: p.spinnVsOracle })) },
        width: Math.max(240, withOracle.length * 14),
        height: 200,
        mark: 'bar',
        encoding: {
          x: { field: 'point', type: 'nominal', sort: null, title: null, axis: { labelAngle: -60 } },
          y: { field: 'ratio', type: 'quantitative', title: 'SPINN mean / oracle mean' },
        },
      } as TopLevelSpec,
    ]);
  }
  if (a.shared.length) {
    const pts = (f: (s: Analysed['shared'][number]) => number) =>
      a.shared.map((s) => ({ x: s.clients, y: f(s), series: s.policy }));
    figs.push([
      'fig3-shared-throughput.svg',
      line(
        '3. SLA-meeting inferences/s, K clients on one backend',
        pts((s) => s.onTimeRps),
        'clients K',
        'on-time inferences / s',
      ),
    ]);
    figs.push([
      'fig3b-shared-server-cost.svg',
      line(
        '3b. Server compute per answered request',
        pts((s) => s.serverMsPerAnswer),
        'clients K',
        'server ms / answer',
      ),
    ]);
  }
  if (a.resilience.length) {
    figs.push([
      'fig5-resilience.svg',
      {
        $schema: SCHEMA,
        title: '5. Share within the SLA under failures (every offloading system hedged)',
        width: 110,
        height: 200,
        data: {
          values: a.resilience.map((r) => ({
            scenario: r.scenario,
            system: r.system,
            within: r.onTimeShare * 100,
          })),
        },
        mark: 'bar',
        encoding: {
          column: { field: 'scenario', type: 'nominal' },
          x: { field: 'system', type: 'nominal', title: null },
          y: { field: 'within', type: 'quantitative', title: 'within SLA, %', scale: { domain: [0, 100] } },
          color: { field: 'system', type: 'nominal', legend: null },
        },
      } as TopLevelSpec,
    ]);
  }
  const written: string[] = [];
  for (const [name, spec] of figs) {
    writeFileSync(join(dir, name), await render(spec));
    written.push(name);
  }
  return written;
}
