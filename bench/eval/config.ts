// Sizes and conditions of the evaluation: the quick mode (`npm run bench:eval`, ≤ 10 min on the 2-core VM, a
// reduced grid) and the full mode (`--full`, ≤ 60 min). Every emulated condition is named here once so the report
// can print exactly what was run. Where the full grid does not fit the hour on 2 cores the cut is stated here and
// in the report (`limits`).

import type { GridPoint, GridSpec } from './grid.js';

export interface EvalConfig {
  mode: 'quick' | 'full';
  /** The grid, per model and device model. */
  grid: GridSpec[];
  /** Grid specs (indices into `grid`) where the no-hedge variants run beside the hedged systems. */
  noHedgeOn: number[];
  /** Interleaved repetitions per point, measured and warm-up requests per cell, requests per probe cell. */
  reps: number;
  perCell: number;
  warmup: number;
  probePerCell: number;
  /** The SLA of every experiment: deadline (on-time accuracy counts later answers as wrong) and accuracy floor. */
  deadlineMs: number;
  accuracyLossPp: number;
  /** The client's offload timeout (after it the device answers alone). */
  offloadTimeoutMs: number;
  /** Calibration images whose codec losses the scheduler reads (cached per model). */
  codecSamples: number;
  bootstrapIterations: number;
  /** K clients sharing one backend in closed loop. */
  shared: {
    model: string;
    cpu: number;
    link: { mbps: number; rttMs: number };
    clients: number[];
    seconds: number;
    policies: string[];
  };
  /** The server-cost-priority SLA at one point. */
  serverCost: { point: GridPoint; reps: number; perCell: number };
  resilience: {
    model: string;
    cpu: number;
    link: { mbps: number; rttMs: number };
    slaMs: number;
    requests: number;
  };
  /** What this mode leaves out of the full design, and why (printed in the report). */
  limits: string[];
}

const R56 = 'resnet56-fmnist';
const MNV2 = 'mobilenetv2-fmnist96';
const FULL_AXES = { cpu: [0.1, 0.25, 0.5], rttMs: [5, 20, 80], mbps: [1, 10, 100] };

export const QUICK: EvalConfig = {
  mode: 'quick',
  grid: [
    { model: R56, deviceModel: 'process', cpu: [0.25], rttMs: [20], mbps: [1, 100] },
    { model: R56, deviceModel: 'nn', cpu: [0.25], rttMs: [20], mbps: [1, 100] },
    { model: MNV2, deviceModel: 'process', cpu: [0.25], rttMs: [20], mbps: [10] },
    { model: MNV2, deviceModel: 'nn', cpu: [0.25], rttMs: [20], mbps: [10] },
  ],
  noHedgeOn: [0],
  reps: 3,
  perCell: 6,
  warmup: 3,
  probePerCell: 3,
  deadlineMs: 100,
  accuracyLossPp: 0.5,
  offloadTimeoutMs: 1000,
  codecSamples: 400,
  bootstrapIterations: 1000,
  shared: {
    model: R56,
    cpu: 0.1,
    link: { mbps: 100, rttMs: 20 },
    clients: [1, 4],
    seconds: 6,
    policies: ['spinn', 'server-only', 'device-exits'],
  },
  serverCost: {
    point: { model: R56, deviceModel: 'process', cpu: 0.25, rttMs: 20, mbps: 10 },
    reps: 2,
    perCell: 6,
  },
  resilience: { model: R56, cpu: 0.25, link: { mbps: 50, rttMs: 10 }, slaMs: 150, requests: 18 },
  limits: [
    'quick mode: a reduced grid (25 % class, 20 ms, 1/100 Mbit/s for ResNet-56, 10 Mbit/s for MobileNetV2), 3 ' +
      'repetitions of 6 requests, K ≤ 4 — it proves every part runs; only `--full` numbers go into RESULTS.md',
  ],
};

export const FULL: EvalConfig = {
  ...QUICK,
  mode: 'full',
  grid: [
    // ResNet-56, whole process: RTT 20 ms with the no-hedge variants, then 5 and 80 ms without.
    { model: R56, deviceModel: 'process', ...FULL_AXES, rttMs: [20] },
    { model: R56, deviceModel: 'process', ...FULL_AXES, rttMs: [5, 80] },
    { model: MNV2, deviceModel: 'process', ...FULL_AXES },
    { model: R56, deviceModel: 'nn', ...FULL_AXES, rttMs: [20] },
  ],
  noHedgeOn: [0],
  reps: 5,
  perCell: 6,
  warmup: 3,
  probePerCell: 3,
  shared: {
    ...QUICK.shared,
    clients: [1, 2, 4, 8, 16],
    seconds: 10,
    policies: ['spinn', 'server-only', 'neurosurgeon', 'edgent', 'device-exits'],
  },
  serverCost: { ...QUICK.serverCost, reps: 5, perCell: 8 },
  resilience: { ...QUICK.resilience, requests: 60 },
  limits: [
    'the full product (2 models × 2 device models × 27 points × 12 systems × 5 repetitions) does not fit an hour on 2 ' +
      'shared cores: both models run the whole 27-point grid on the whole-process device model; the NN-only device ' +
      'model runs ResNet-56 at RTT 20 ms (9 points); the no-hedge variants run on ResNet-56 / whole process at RTT ' +
      '20 ms (9 points); ' +
      '6 measured requests per cell (30 per system and point)',
    'K clients: 16 device processes at 10 % of a core each ask for 1.6 cores beside the backend and workerd on a ' +
      '2-core machine; from K = 8 the machine, not only the backend, is the limit',
  ],
};
