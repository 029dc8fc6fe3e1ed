// 95 % bootstrap confidence intervals for the evaluation's means, p95s and ratios. The unit of resampling follows
// the design: repetitions are clusters (each ran at another time on a shared machine), so every bootstrap sample
// draws repetitions with replacement and then requests within each drawn repetition (a two-stage cluster
// bootstrap). Systems compared at one point ran the same images in the same repetition, so a ratio's bootstrap is
// paired: one draw of repetitions and image positions is applied to every system. Seeded, so a report is
// reproducible from its records.

import { seededRandom } from '../../tools/exits/softmax-regression.js';
import type { Stat } from './stats.js';

export interface BootstrapOptions {
  /** Bootstrap samples (default 2000). */
  iterations?: number;
  seed?: number;
  /** Confidence level (default 0.95). */
  level?: number;
}

/** Percentile interval of bootstrap values (NaNs dropped); [NaN, NaN] when none is finite. */
function percentileInterval(values: number[], level: number): [number, number] {
  const ok = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (!ok.length) return [NaN, NaN];
  const lo = ok[Math.floor(((1 - level) / 2) * (ok.length - 1))]!;
  const hi = ok[Math.ceil((1 - (1 - level) / 2) * (ok.length - 1))]!;
  return [lo, hi];
}

/**
 * One paired two-stage draw: which repetitions, and which positions within each. `sizes[r]` is the number of
 * aligned positions (images) of repetition r.
 */
function drawPositions(sizes: readonly number[], rand: () => number): Array<[number, number[]]> {
  const reps = sizes.length;
  const out: Array<[number, number[]]> = [];
  for (let k = 0; k < reps; k++) {
    const r = Math.floor(rand() * reps);
    const n = sizes[r]!;
    out.push([r, Array.from({ length: n }, () => Math.floor(rand() * n))]);
  }
  return out;
}

/**
 * CI of `stat` over one system's values, given per repetition (`byRep[r]` = values of repetition r's requests).
 */
export function clusterBootstrapCi(
  byRep: readonly (readonly number[])[],
  stat: Stat,
  o: BootstrapOptions = {},
): [number, number] {
  return pairedBootstrapCi([byRep], (s) => s[0]!, stat, o);
}

/**
 * CI of a statistic of several systems measured on the same (repetition, image) cells: `systems[k][r][i]` is system
 * k's value for image i of repetition r (every system has the same shape). `combine` turns the per-system
 * statistics of one bootstrap sample into the quantity of interest (e.g. SPINN / the best baseline).
 */
export function pairedBootstrapCi(
  systems: readonly (readonly (readonly number[])[])[],
  combine: (stats: number[]) => number,
  stat: Stat,
  o: BootstrapOptions = {},
): [number, number] {
  const first = systems[0];
  if (!first || first.length === 0) return [NaN, NaN];
  const sizes = first.map((r) => r.length);
  for (const s of systems) {
    if (s.length !== sizes.length || s.some((r, i) => r.length !== sizes[i]))
      throw new RangeError('pairedBootstrapCi: every system needs the same repetitions and images');
  }
  const rand = seededRandom(o.seed ?? 16);
  const values: number[] = [];
  for (let b = 0; b < (o.iterations ?? 2000); b++) {
    const draw = drawPositions(sizes, rand);
    const stats = systems.map((s) => stat(draw.flatMap(([r, idx]) => idx.map((i) => s[r]![i]!))));
    values.push(combine(stats));
  }
  return percentileInterval(values, o.level ?? 0.95);
}
