// bench:hop's request schedule: every path gets exactly its requests, in blocks of consecutive requests, each round
// visiting every path once in a shuffled order, and a seed always gives the same schedule (bench/hop/paths.ts says
// why blocks: each hop pays its own after-work).

import { describe, expect, it } from 'vitest';
import { blockSchedule } from '../../../bench/hop/paths.js';

/** Runs of equal consecutive entries: [path, length]. */
function runs(schedule: number[]): [number, number][] {
  const out: [number, number][] = [];
  for (const k of schedule) {
    const last = out.at(-1);
    if (last && last[0] === k) last[1]++;
    else out.push([k, 1]);
  }
  return out;
}

describe('blockSchedule', () => {
  it('gives every path exactly its requests, in blocks, each round visiting every path once', () => {
    const schedule = blockSchedule(4, 23, 5, 3);
    expect(schedule).toHaveLength(4 * 23);
    for (let k = 0; k < 4; k++) expect(schedule.filter((x) => x === k)).toHaveLength(23);
    // Rounds of 4 blocks: four of 5 requests per path, then one of 3.
    const rounds = Array.from({ length: 4 }, (_, r) => schedule.slice(r * 20, r * 20 + 20));
    for (const round of rounds) {
      expect(new Set(round).size).toBe(4);
      // A block may run into the next one only across a round's boundary, never inside a round.
      expect(runs(round).every(([, n]) => n === 5)).toBe(true);
    }
    expect(runs(schedule.slice(80)).map(([, n]) => n)).toEqual([3, 3, 3, 3]);
  });

  it('shuffles the order of the paths from round to round', () => {
    const schedule = blockSchedule(4, 100, 5, 7);
    const firsts = new Set(Array.from({ length: 20 }, (_, r) => schedule[r * 20]));
    expect(firsts.size).toBeGreaterThan(1);
  });

  it('is the same for the same seed and differs for another', () => {
    expect(blockSchedule(5, 50, 5, 11)).toEqual(blockSchedule(5, 50, 5, 11));
    expect(blockSchedule(5, 50, 5, 11)).not.toEqual(blockSchedule(5, 50, 5, 12));
  });
});
