// Progress of a long evaluation on stderr: one bar per experiment (cells done / cells planned, with an ETA) and log
// lines printed above it. Without a terminal (CI, a log file) it prints a line every ~5 % and every log line as is.

import cliProgress from 'cli-progress';

export interface Progress {
  /** Starts a bar for an experiment of `total` steps. */
  start(label: string, total: number): void;
  /** One step done; `what` names it. */
  tick(what: string): void;
  stop(): void;
  log(line: string): void;
}

export function createProgress(t0 = performance.now()): Progress {
  const stamp = (m: string) => `[${((performance.now() - t0) / 1000).toFixed(0)} s] ${m}`;
  if (!process.stderr.isTTY) {
    let label = '';
    let total = 0;
    let done = 0;
    let lastPct = -1;
    return {
      start(l, t) {
        [label, total, done, lastPct] = [l, t, 0, -1];
      },
      tick(what) {
        const pct = Math.floor((++done / total) * 20);
        if (pct !== lastPct) process.stderr.write(stamp(`${label}: ${done}/${total} (${what})\n`));
        lastPct = pct;
      },
      stop() {},
      log: (line) => process.stderr.write(`${stamp(line)}\n`),
    };
  }
  const multi = new cliProgress.MultiBar(
    {
      format: '{label} [{bar}] {value}/{total} eta {eta_formatted} {what}',
      stream: process.stderr,
      clearOnComplete: false,
      hideCursor: true,
    },
    cliProgress.Presets.shades_classic,
  );
  let bar: cliProgress.SingleBar | undefined;
  return {
    start(label, total) {
      bar?.stop();
      bar = multi.create(total, 0, { label, what: '' });
    },
    tick: (what) => bar?.increment(1, { what }),
    stop() {
      multi.stop();
    },
    log: (line) => multi.log(`${stamp(line)}\n`),
  };
}
