// The demo page reads the edge's Server-Timing header (demo/web/server-timing.ts) for its timeline.

import { describe, expect, it } from 'vitest';
import { parseServerTiming } from '../../demo/web/server-timing.js';

describe('parseServerTiming', () => {
  it('reads the edge header into durations by name', () => {
    expect(parseServerTiming('edge;dur=1.25, backend;dur=6, queue;dur=0.5, compute;dur=3.5')).toEqual({
      edge: 1.25,
      backend: 6,
      queue: 0.5,
      compute: 3.5,
    });
  });

  it('skips entries without a duration and gives undefined for nothing usable', () => {
    expect(parseServerTiming('cache;desc="hit", edge;dur=2')).toEqual({ edge: 2 });
    expect(parseServerTiming('garbage')).toBeUndefined();
    expect(parseServerTiming(null)).toBeUndefined();
  });
});
