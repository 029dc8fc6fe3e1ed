// What an offload's round trip costs beyond the server's own time, as a line: fixed + bytes × perByte, fitted to the
// client's recent offloads. One offload is one equation with two unknowns, and on a slow, shared device single
// round trips swing 2–10× (a stall, a first connection), so splitting each one into "latency" and "bandwidth" with
// moving averages (tried first) let one outlier set a 10 Mbit/s link to 0.1 Mbit/s or 1.5 Gbit/s. Here the slope is
// the Theil–Sen estimator (median of pairwise slopes) over offloads whose sizes differ at least twofold, and the
// fixed part the median residual: both shrug off a minority of outliers. While every recent offload has about the
// same size (one plan, one split) the data cannot tell the two apart, and the caller says which to hold: for large
// offloads the fixed part (the link latency plus the last fitted overhead), so a bandwidth drop shows as bandwidth;
// for small ones the slope (their bytes cost little either way). Medians are slow to follow a real change (half the
// window must see it), so three offloads in a row far off the line on the same side restart the fit from them.

export interface OffloadCost {
  /** Time an offload costs whatever its size, ms. */
  fixedMs: number;
  /** ms per byte, when the window's sizes identify it. */
  perByte: number | undefined;
}

/** What the caller holds while the window's sizes are alike (see `fit`). */
export interface OffloadCostHold {
  perByte: number;
  fixedMs: number;
  smallBytes: number;
}

export interface OffloadCostFitOptions {
  /** Offloads kept (default 12). */
  window?: number;
  /** Pairs of offloads whose sizes differ by at least this factor give a slope (default 2). */
  minSizeRatio?: number;
  /** Slopes needed before the fit trusts its own (default 3). */
  minPairs?: number;
  /** Smallest slope, ms per byte (default 1e-7: 80 Gbit/s), so a fitted bandwidth stays finite. */
  minPerByte?: number;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

export class OffloadCostFit {
  private readonly samples: Array<{ bytes: number; ms: number }> = [];
  private readonly window: number;
  private readonly ratio: number;
  private readonly minPairs: number;
  private readonly minPerByte: number;

  constructor(o: OffloadCostFitOptions = {}) {
    this.window = o.window ?? 12;
    this.ratio = o.minSizeRatio ?? 2;
    this.minPairs = o.minPairs ?? 3;
    this.minPerByte = o.minPerByte ?? 1e-7;
  }

  get size(): number {
    return this.samples.length;
  }

  /**
   * Adds one offload. When it is the third in a row off the line fitted without them — on the same side, by more
   * than half the predicted time and 5 ms — the conditions changed: the window restarts from those three.
   */
  add(bytes: number, ms: number, hold: OffloadCostHold): void {
    if (!(bytes >= 0) || !(ms >= 0) || !Number.isFinite(bytes) || !Number.isFinite(ms)) return;
    this.samples.push({ bytes, ms });
    if (this.samples.length > this.window) this.samples.shift();
    const n = this.samples.length;
    if (n < 6) return;
    const recent = this.samples.slice(n - 3);
    const line = this.lineOf(this.samples.slice(0, n - 3), hold)!;
    const off = recent.map((x) => {
      const predicted = line.fixedMs + (line.perByte ?? hold.perByte) * x.bytes;
      const r = x.ms - predicted;
      return Math.abs(r) > Math.max(5, predicted / 2) ? Math.sign(r) : 0;
    });
    if (off[0] !== 0 && off.every((d) => d === off[0])) this.samples.splice(0, n - 3);
  }

  /** The slope from the window alone, when its sizes identify one. */
  slope(): number | undefined {
    return this.slopeOf(this.samples);
  }

  /**
   * The fitted line, or undefined before any offload. While the window's sizes are alike, offloads of more than
   * `hold.smallBytes` (median) keep `hold.fixedMs` (at most the fastest offload) and measure the slope; smaller
   * ones keep `hold.perByte` and measure the fixed part. `perByte` in the answer is undefined only when neither the
   * data nor a large offload gave one.
   */
  fit(hold: OffloadCostHold): OffloadCost | undefined {
    return this.lineOf(this.samples, hold);
  }

  private slopeOf(s: ReadonlyArray<{ bytes: number; ms: number }>): number | undefined {
    const slopes: number[] = [];
    for (let i = 0; i < s.length; i++) {
      for (let j = i + 1; j < s.length; j++) {
        const [a, b] = s[i]!.bytes <= s[j]!.bytes ? [s[i]!, s[j]!] : [s[j]!, s[i]!];
        if (a.bytes <= 0 ? b.bytes <= 0 : b.bytes < this.ratio * a.bytes) continue;
        slopes.push((b.ms - a.ms) / (b.bytes - a.bytes));
      }
    }
    return slopes.length >= this.minPairs ? Math.max(this.minPerByte, median(slopes)) : undefined;
  }

  private lineOf(
    s: ReadonlyArray<{ bytes: number; ms: number }>,
    hold: OffloadCostHold,
  ): OffloadCost | undefined {
    if (s.length === 0) return undefined;
    let perByte = this.slopeOf(s);
    if (perByte === undefined && median(s.map((x) => x.bytes)) > hold.smallBytes) {
      // The fixed part cannot exceed the fastest offload seen: a held latency read high (a cold first plan
      // request, a busy device) would otherwise leave nothing for the bytes.
      const fixedMs = Math.max(0, Math.min(hold.fixedMs, ...s.map((x) => x.ms)));
      perByte = Math.max(this.minPerByte, median(s.map((x) => (x.ms - fixedMs) / Math.max(1, x.bytes))));
      return { fixedMs, perByte };
    }
    const p = perByte ?? hold.perByte;
    return { fixedMs: Math.max(0, median(s.map((x) => x.ms - p * x.bytes))), perByte };
  }
}
