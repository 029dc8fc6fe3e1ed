// Sizes and conditions of the evaluation: the quick mode (`npm run bench:eval`, ≤ 10 min on the 2-core VM) and the
// full mode (`--full`: more images per point, more points). Every emulated condition is named
// here once so the report can print exactly what was run.

export interface EvalConfig {
  mode: 'quick' | 'full';
  /** Device class(es) as a share of one core; the first is the one the experiments run on. */
  deviceClasses: number[];
  /** Requests measured per (condition, policy) point, and warm-up requests before them (not recorded). */
  perPoint: number;
  warmup: number;
  /** Experiment 1: bandwidths (Mbit/s, each way) at a fixed RTT. */
  bandwidthsMbps: number[];
  rttMs: number;
  /** Accuracy floor of experiments 1, 2 and 5: at most this many pp below the model's best profiled accuracy. */
  accuracyLossPp: number;
  /** Experiment 2: concurrent closed-loop background requests on the backend, and the link it runs at. */
  loadLevels: number[];
  loadLink: { mbps: number; rttMs: number };
  /** Experiment 3: latency SLAs (ms) and the link. */
  slaMs: number[];
  slaLink: { mbps: number; rttMs: number };
  slaImages: number;
  /** Experiment 4: trace file (bench/eval/traces/) and its length. */
  trace: string;
  /** Experiment 5: link, SLA deadline and requests per scenario. */
  resilienceLink: { mbps: number; rttMs: number };
  resilienceSlaMs: number;
  resilienceRequests: number;
}

export const QUICK: EvalConfig = {
  mode: 'quick',
  deviceClasses: [0.25, 0.1, 0.5],
  perPoint: 36,
  warmup: 6,
  bandwidthsMbps: [0.5, 1, 5, 10, 25, 100],
  rttMs: 20,
  accuracyLossPp: 0.5,
  loadLevels: [0, 2, 4],
  loadLink: { mbps: 25, rttMs: 20 },
  slaMs: [15, 25, 40, 60, 100],
  slaLink: { mbps: 10, rttMs: 20 },
  slaImages: 48,
  trace: 'quick.json',
  resilienceLink: { mbps: 50, rttMs: 10 },
  resilienceSlaMs: 150,
  resilienceRequests: 45,
};

export const FULL: EvalConfig = {
  ...QUICK,
  mode: 'full',
  perPoint: 100,
  warmup: 10,
  bandwidthsMbps: [0.5, 1, 2, 5, 10, 25, 50, 100],
  loadLevels: [0, 1, 2, 4, 8],
  slaMs: [10, 15, 20, 25, 40, 60, 100, 150],
  slaImages: 200,
  trace: 'full.json',
  resilienceRequests: 150,
};
