// Turns an exit table into the profile the scheduler reads: per threshold, the share of samples leaving at each
// exit and the accuracy of the whole progressive model; and each exit's stand-alone accuracy.

import { shouldExit } from '../../core/exit-policy.js';
import type { ThresholdProfile } from '../../core/manifest.js';
import type { ExitTable } from './exit-table.js';

/** 0.00..0.95 step 0.05, a finer grid near 1 where softmax confidences crowd, and 1.0 (no early exit). */
export const DEFAULT_THRESHOLDS: number[] = [
  ...Array.from({ length: 20 }, (_, i) => Math.round(i * 5) / 100),
  0.96,
  0.97,
  0.98,
  0.99,
  0.995,
  0.999,
  1.0,
];

/** Index of the exit a sample leaves at under a threshold (the last exit is final). */
export function exitOf(table: ExitTable, sample: number, threshold: number): number {
  const E = table.exits;
  for (let e = 0; e < E; e++) {
    if (shouldExit(table.confidence[sample * E + e]!, threshold, e === E - 1)) return e;
  }
  return E - 1;
}

export function thresholdProfile(table: ExitTable, thresholds = DEFAULT_THRESHOLDS): ThresholdProfile[] {
  const E = table.exits;
  return thresholds.map((threshold) => {
    const counts = new Array<number>(E).fill(0);
    let correct = 0;
    for (let s = 0; s < table.samples; s++) {
      const e = exitOf(table, s, threshold);
      counts[e]!++;
      if (table.predicted[s * E + e] === table.truth[s]) correct++;
    }
    return {
      threshold,
      exitFraction: counts.map((c) => c / table.samples),
      accuracy: correct / table.samples,
    };
  });
}

export function exitAccuracies(table: ExitTable): number[] {
  const E = table.exits;
  return Array.from({ length: E }, (_, e) => {
    let correct = 0;
    for (let s = 0; s < table.samples; s++) if (table.predicted[s * E + e] === table.truth[s]) correct++;
    return correct / table.samples;
  });
}
