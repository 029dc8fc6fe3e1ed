// The backend choice in isolation (worker/backend-pool.ts): least loaded by this isolate's in-flight counts and the
// load the backends report, capacity from worker slots and weights, turns among equals, ejection with doubling
// backoff, probes when the time is up, and the last resort when every backend is out. A hand-driven clock.

import { describe, expect, it } from 'vitest';
import type { BackendSpec } from '../../../worker/backends-config.js';
import { BASE_EJECT_MS, BackendPool, MAX_EJECT_MS, REPORT_TTL_MS } from '../../../worker/backend-pool.js';

const spec = (name: string, weight = 1): BackendSpec => ({
  name,
  url: `http://${name}.invalid`,
  weight,
  kind: 'spinn',
});

function setup(specs: BackendSpec[]) {
  let t = 1_000_000;
  const pool = new BackendPool(specs, () => t);
  return {
    pool,
    specs,
    advance: (ms: number) => void (t += ms),
    /** Picks n times without releasing, returning the names in order. */
    pickN: (n: number) => Array.from({ length: n }, () => pool.pick(specs)!.name),
  };
}

describe('least loaded', () => {
  it('takes equal idle backends in turn, and counts its own requests in flight', () => {
    const { pool, pickN } = setup([spec('a'), spec('b'), spec('c')]);
    expect(pickN(6)).toEqual(['a', 'b', 'c', 'a', 'b', 'c']);
    // b's two requests finish: it is now the least loaded and takes the next two.
    pool.release('b');
    pool.release('b');
    expect(pickN(2)).toEqual(['b', 'b']);
  });

  it('weights capacity: weight 2 takes twice the requests of weight 1 at equal load', () => {
    const { pickN } = setup([spec('a'), spec('big', 2)]);
    const counts = pickN(30).reduce<Record<string, number>>((m, n) => ((m[n] = (m[n] ?? 0) + 1), m), {});
    expect(counts).toEqual({ a: 10, big: 20 });
  });

  it('counts what a backend reports (work from other isolates) plus what this isolate sent since', () => {
    const { pool, pickN } = setup([spec('a'), spec('b')]);
    // a says it has 4 requests from elsewhere on 1 worker slot; b is idle.
    pool.answered('a', { busy: 1, queued: 3, workers: 1 });
    expect(pickN(4)).toEqual(['b', 'b', 'b', 'b']);
    // b now has 4 of ours, a 4 reported: turns again (a first: it was picked least recently).
    expect(pickN(2)).toEqual(['a', 'b']);
  });

  it('divides by the worker slots a backend reports', () => {
    const { pool, pickN } = setup([spec('a'), spec('b')]);
    pool.answered('a', { busy: 0, queued: 0, workers: 4 });
    pool.answered('b', { busy: 0, queued: 0, workers: 1 });
    // a has 4 slots: it takes 4 for b's 1 at equal per-slot load.
    const names = pickN(10);
    expect(names.filter((n) => n === 'a').length).toBe(8);
  });

  it('forgets a report older than REPORT_TTL_MS', () => {
    const { pool, pickN, advance } = setup([spec('a'), spec('b')]);
    pool.answered('a', { busy: 10, queued: 10, workers: 1 });
    expect(pickN(1)).toEqual(['b']);
    advance(REPORT_TTL_MS + 1);
    expect(pickN(1)).toEqual(['a']);
  });

  it('skips excluded backends and answers null when none is left', () => {
    const { pool, specs } = setup([spec('a'), spec('b')]);
    expect(pool.pick(specs, new Set(['a']))!.name).toBe('b');
    expect(pool.pick(specs, new Set(['a', 'b']))).toBeNull();
    expect(pool.pick([])).toBeNull();
  });
});

describe('health ejection', () => {
  it('takes a failed backend out of rotation, counting the failures of one outage once', () => {
    const { pool, pickN } = setup([spec('a'), spec('b')]);
    pool.failed('a');
    pool.failed('a'); // a second in-flight request of the same outage
    expect(pool.view('a')).toMatchObject({ inRotation: false, ejections: 1, ejectedForMs: BASE_EJECT_MS });
    expect(pickN(4)).toEqual(['b', 'b', 'b', 'b']);
  });

  it('probes once the time is up; a good probe readmits, a bad one doubles the backoff up to the cap', () => {
    const { pool, pickN, advance } = setup([spec('a'), spec('b')]);
    pool.failed('a');
    expect(pool.takeProbesDue()).toEqual([]);
    advance(BASE_EJECT_MS);
    expect(pool.takeProbesDue().map((s) => s.name)).toEqual(['a']);
    expect(pool.takeProbesDue()).toEqual([]); // one probe at a time
    expect(pickN(1)).toEqual(['b']); // still out until the probe answers
    pool.probed('a', false);
    expect(pool.view('a')).toMatchObject({ ejections: 2, ejectedForMs: 2 * BASE_EJECT_MS });
    for (let i = 0; i < 10; i++) {
      advance(MAX_EJECT_MS);
      pool.takeProbesDue();
      pool.probed('a', false);
    }
    expect(pool.view('a')!.ejectedForMs).toBe(MAX_EJECT_MS);
    advance(MAX_EJECT_MS);
    pool.takeProbesDue();
    pool.probed('a', true);
    expect(pool.view('a')!.inRotation).toBe(true);
    // Back in rotation, and the least loaded (b holds one request from above): traffic returns to it.
    expect(pickN(1)).toEqual(['a']);
  });

  it('an answered offload resets the backoff', () => {
    const { pool, advance } = setup([spec('a')]);
    pool.failed('a');
    advance(BASE_EJECT_MS);
    pool.takeProbesDue();
    pool.probed('a', true);
    pool.failed('a');
    expect(pool.view('a')!.ejections).toBe(2);
    pool.answered('a');
    expect(pool.view('a')).toMatchObject({ inRotation: true, ejections: 0 });
  });

  it('with every backend out, tries the one whose ejection ends first (a fleet of one keeps trying)', () => {
    const { pool, specs, advance } = setup([spec('a'), spec('b')]);
    pool.failed('b');
    advance(10);
    pool.failed('a');
    expect(pool.pick(specs)!.name).toBe('b');
    const single = setup([spec('only')]);
    single.pool.failed('only');
    expect(single.pool.pick(single.specs)!.name).toBe('only');
  });
});
