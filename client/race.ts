// SPINN's robustness rule after an offload: the device keeps computing from the split while the server works.
// Whoever answers first wins. A server `done` sets the cancel flag the local run checks before each block; a local
// exit aborts the offload (the caller then cancels it at the edge). A server that fails, times out or is
// unreachable changes nothing but the label on the answer: the local run finishes and answers.
// Racing at once is free on a device with a core to spare, not on a slow one: JavaScript reads the server's answer
// on the thread that runs the local blocks, and on a 10 % core the race doubled the offload's round trip (70–82 ms
// against 39–45 ms for the same offload not raced). 'hedge' starts the local run only once the server is overdue
// (or has failed), like a hedged request: the same fallback, without taxing the answer it is waiting for.

import type { ProgressiveResult } from '../core/progressive-executor.js';
import type { OffloadCall, OffloadOutcome } from './offload.js';

/** How the device uses its own remaining blocks once it has offloaded. */
export type LocalContinuation =
  /** Run them at once, racing the server (SPINN's default; costs device compute, hides server failures). */
  | 'race'
  /**
   * Run them once the server is overdue (`hedgeAfterMs` without an answer) or has failed; without a
   * `hedgeAfterMs` (nothing known about the server yet) it races at once.
   */
  | 'hedge'
  /** Run them only after the offload failed (saves device compute; a failure costs the whole remaining time). */
  | 'on-failure';

export interface RaceOptions {
  offload: OffloadCall;
  /** Runs the blocks after the split; must stop (outcome `cancelled`) once `isCancelled()` is true. */
  runLocal: (isCancelled: () => boolean) => Promise<ProgressiveResult>;
  continuation: LocalContinuation;
  /** With 'hedge': how long after the offload left the server counts as overdue, ms. */
  hedgeAfterMs?: number;
  now: () => number;
}

/** An exit the local run reached. */
export type LocalExit = ProgressiveResult & { outcome: { kind: 'exit' } };

export type RaceOutcome =
  | {
      winner: 'server';
      server: OffloadOutcome & { kind: 'result' };
      /** The local run, stopped by the cancel flag (or null if it never started). */
      local: ProgressiveResult | null;
      decidedAt: number;
    }
  | {
      winner: 'local';
      local: LocalExit;
      /**
       * The offload's outcome when it ended before the local run answered (an error, or a result whose status is
       * `failed` or `cancelled`); null when the local run won the race.
       */
      server: OffloadOutcome | null;
      /** Whether the offload was still open when given up (timeout or local win), so the edge should be told. */
      abandoned: boolean;
      decidedAt: number;
    };

type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };
const settle = <T>(p: Promise<T>): Promise<Settled<T>> =>
  p.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );

const isDone = (o: OffloadOutcome): o is OffloadOutcome & { kind: 'result' } =>
  o.kind === 'result' && o.message.status === 'done';

function localExit(s: Settled<ProgressiveResult>): LocalExit {
  if (!s.ok) throw s.error;
  if (s.value.outcome.kind !== 'exit') {
    throw new Error(`local run after the split ended with ${s.value.outcome.kind}, not an exit`);
  }
  return s.value as LocalExit;
}

export async function raceOffload(o: RaceOptions): Promise<RaceOutcome> {
  let serverAnswered = false;
  const server = o.offload.outcome.then((out) => {
    if (isDone(out)) serverAnswered = true;
    return out;
  });
  const startLocal = () => settle(o.runLocal(() => serverAnswered));
  const hedge = o.continuation === 'hedge' && o.hedgeAfterMs !== undefined && o.hedgeAfterMs > 0;
  let local = o.continuation === 'race' || (o.continuation === 'hedge' && !hedge) ? startLocal() : null;
  if (hedge) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const overdue = new Promise<'overdue'>((r) => (timer = setTimeout(() => r('overdue'), o.hedgeAfterMs)));
    const first = await Promise.race([server.then(() => 'settled' as const), overdue]);
    clearTimeout(timer);
    if (first === 'overdue') local = startLocal();
  }

  if (local) {
    const first = await Promise.race([
      server.then((s) => ({ from: 'server' as const, s })),
      local.then((l) => ({ from: 'local' as const, l })),
    ]);
    if (first.from === 'local' && first.l.ok && first.l.value.outcome.kind === 'exit') {
      const decidedAt = o.now();
      if (!serverAnswered) o.offload.abort();
      return {
        winner: 'local',
        local: first.l.value as LocalExit,
        server: null,
        abandoned: !serverAnswered,
        decidedAt,
      };
    }
    // Otherwise the server settled first, or the local run stopped (cancelled because the server answered, or it
    // threw): the server's outcome decides.
  }

  const s = await server;
  if (isDone(s)) {
    const decidedAt = o.now();
    const l = local ? await local : null;
    return { winner: 'server', server: s, local: l && l.ok ? l.value : null, decidedAt };
  }
  // The offload failed (or the server said failed/cancelled): the device answers alone.
  local ??= startLocal();
  const exit = localExit(await local);
  return {
    winner: 'local',
    local: exit,
    server: s,
    abandoned: s.kind === 'error' && (s.reason === 'timeout' || s.reason === 'network'),
    decidedAt: o.now(),
  };
}
