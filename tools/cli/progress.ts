// One look for progress bars across the long-running tools (profiling, reports, benchmarks); bars go to stderr
// so stdout stays clean for tables and the final JSON line.

import cliProgress from 'cli-progress';

export function progressBar(label: string, total: number): { update(n: number): void; stop(): void } {
  if (!process.stderr.isTTY) {
    // Without a terminal, print a line every ~10 % instead of redrawing.
    let last = -1;
    return {
      update(n) {
        const pct = Math.floor((n / total) * 10);
        if (pct !== last) {
          last = pct;
          process.stderr.write(`${label}: ${n}/${total}\n`);
        }
      },
      stop() {},
    };
  }
  const bar = new cliProgress.SingleBar(
    { format: `${label} [{bar}] {percentage}% {value}/{total} eta {eta}s`, stream: process.stderr },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0);
  return { update: (n) => bar.update(n), stop: () => bar.stop() };
}
