// The evaluation's design as pure functions: which points are measured (model × device model × device class × RTT
// × bandwidth), in which order the systems run within a repetition (rotating, so no system always runs first or
// next to the same neighbour), and which test images each cell uses (measurement half only, the same images for
// every system of a repetition, different images in every repetition and point). Tested in
// test/bench/eval/grid.test.ts.

/** How the device is slowed down (see device-host.ts). */
export type DeviceModel = 'process' | 'nn';

export const DEVICE_MODEL_TEXT: Record<DeviceModel, string> = {
  process: 'whole process under a CPU quota (client networking throttled too)',
  nn: 'NN compute only under a CPU quota (onnxruntime in a worker thread; client networking at full speed)',
};

/** One measured condition of the grid. */
export interface GridPoint {
  model: string;
  deviceModel: DeviceModel;
  /** Device class, share of one core. */
  cpu: number;
  rttMs: number;
  mbps: number;
}

/** A part of the grid: one model on one device model over the product of classes, RTTs and bandwidths. */
export interface GridSpec {
  model: string;
  deviceModel: DeviceModel;
  cpu: number[];
  rttMs: number[];
  mbps: number[];
}

/** Every point of the specs, model and device model outermost, then class, RTT, bandwidth (the run order). */
export function gridPoints(specs: readonly GridSpec[]): GridPoint[] {
  const out: GridPoint[] = [];
  for (const s of specs)
    for (const cpu of s.cpu)
      for (const rttMs of s.rttMs)
        for (const mbps of s.mbps) out.push({ model: s.model, deviceModel: s.deviceModel, cpu, rttMs, mbps });
  return out;
}

export const pointLabel = (p: GridPoint): string =>
  `${p.model} ${p.deviceModel} ${Math.round(p.cpu * 100)}% ${p.rttMs}ms ${p.mbps}Mbps`;

/**
 * The order of `items` in repetition `rep`: a rotation that moves each item `step` places per repetition
 * (step = ⌊len / reps⌋, at least 1), so over `reps` ≤ len repetitions every item runs at a different position.
 */
export function rotatedOrder<T>(items: readonly T[], rep: number, reps: number): T[] {
  const n = items.length;
  if (n === 0) return [];
  const step = Math.max(1, Math.floor(n / Math.max(1, reps)));
  const start = (((rep * step) % n) + n) % n;
  return [...items.slice(start), ...items.slice(0, start)];
}

/** The test split's halves: the scheduler's profile is computed on `calibration`, every measurement uses the rest. */
export const TEST_IMAGES = 10_000;
export const isCalibrationImage = (i: number): boolean => i % 2 === 0;
export const HALVES_TEXT =
  'calibration half = even indices of the Fashion-MNIST test split (0, 2, …, 9998: the scheduler’s exit rates, ' +
  'accuracies and codec losses); measurement half = odd indices (1, 3, …, 9999: every measured request)';

/** The k-th image of the measurement half (k wraps around the half). */
export const measurementImage = (k: number): number => 2 * (((k % 5000) + 5000) % 5000) + 1;
/** The k-th image of the calibration half; used only for unmeasured warm-up requests. */
export const calibrationImage = (k: number): number => 2 * (((k % 5000) + 5000) % 5000);

/**
 * Images of one cell: `n` measured images, the same for every system at (point, rep), a fresh slice for every
 * (point, rep); and `warmup` images from the calibration half before them (not recorded).
 */
export function cellImages(
  pointIndex: number,
  rep: number,
  reps: number,
  n: number,
  warmup: number,
): { warmup: number[]; measured: number[] } {
  const offset = (pointIndex * reps + rep) * n;
  return {
    warmup: Array.from({ length: warmup }, (_, i) => calibrationImage(offset + i)),
    measured: Array.from({ length: n }, (_, i) => measurementImage(offset + i)),
  };
}
