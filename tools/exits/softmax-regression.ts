// Trains one exit head's classifier: multinomial logistic (softmax) regression on features already extracted from
// the frozen network (SDN's "IC-only" training: the backbone never changes, so the heads' features are computed
// once). The problem is convex, so a plain mini-batch AdamW with a cosine learning rate finds the same optimum
// from any seed; features are standardised first (per column) for conditioning, and the standardisation is folded
// back into the weights so the exported head is one Gemm on the raw pooled features.
//
// Why not a library: this is ~100 lines of arithmetic that the tests check against finite differences and a
// separable problem; TensorFlow.js would add tens of MB for one linear layer (and its native backend downloads a
// binary at install, which fails offline), and the Python stack would make `npm run model:exits` need PyTorch.

export interface SoftmaxTrainOptions {
  epochs?: number;
  batch?: number;
  lr?: number;
  weightDecay?: number;
  seed?: number;
  /** Called after each epoch with the validation accuracy (when validation data is given). */
  onEpoch?: (epoch: number, valAccuracy: number | undefined) => void;
}

export interface LinearHead {
  /** [classes × features], row-major: logits = W · x + b. */
  weight: Float32Array;
  bias: Float32Array;
  features: number;
  classes: number;
  /** Validation accuracy of the kept epoch (or training accuracy without validation data). */
  accuracy: number;
  epoch: number;
}

export interface FeatureSet {
  /** [n × features] row-major. */
  x: Float32Array;
  y: Uint8Array;
  n: number;
}

/** mulberry32: a small seeded generator, so a seed always gives the same shuffles. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function shuffled(n: number, rand: () => number): Int32Array {
  const p = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [p[i], p[j]] = [p[j]!, p[i]!];
  }
  return p;
}

/** logits[k] = b[k] + Σ_d W[k, d] x[d] for one row of x. */
function logitsOf(
  w: Float32Array,
  b: Float32Array,
  x: Float32Array,
  off: number,
  D: number,
  out: Float64Array,
) {
  for (let k = 0; k < out.length; k++) {
    let s = b[k]!;
    const row = k * D;
    for (let d = 0; d < D; d++) s += w[row + d]! * x[off + d]!;
    out[k] = s;
  }
}

/** Softmax in place (max-shifted); returns the argmax. */
function softmaxInPlace(z: Float64Array): number {
  let max = -Infinity;
  let arg = 0;
  for (let k = 0; k < z.length; k++) if (z[k]! > max) [max, arg] = [z[k]!, k];
  let sum = 0;
  for (let k = 0; k < z.length; k++) sum += z[k] = Math.exp(z[k]! - max);
  for (let k = 0; k < z.length; k++) z[k]! /= sum;
  return arg;
}

export function accuracyOf(w: Float32Array, b: Float32Array, set: FeatureSet, D: number): number {
  const z = new Float64Array(b.length);
  let hits = 0;
  for (let i = 0; i < set.n; i++) {
    logitsOf(w, b, set.x, i * D, D, z);
    if (softmaxInPlace(z) === set.y[i]) hits++;
  }
  return set.n ? hits / set.n : 0;
}

/** Mean cross-entropy and its gradient over the rows `rows` (used by the trainer and checked by the tests). */
export function lossAndGradient(
  w: Float32Array,
  b: Float32Array,
  set: FeatureSet,
  rows: ArrayLike<number>,
  D: number,
  gw: Float64Array,
  gb: Float64Array,
): number {
  const K = b.length;
  const z = new Float64Array(K);
  gw.fill(0);
  gb.fill(0);
  let loss = 0;
  for (let r = 0; r < rows.length; r++) {
    const off = rows[r]! * D;
    logitsOf(w, b, set.x, off, D, z);
    softmaxInPlace(z);
    const y = set.y[rows[r]!]!;
    loss -= Math.log(Math.max(z[y]!, 1e-30));
    z[y]! -= 1; // dLoss/dlogits = p − onehot
    for (let k = 0; k < K; k++) {
      const g = z[k]!;
      gb[k]! += g;
      const row = k * D;
      for (let d = 0; d < D; d++) gw[row + d]! += g * set.x[off + d]!;
    }
  }
  const inv = 1 / Math.max(1, rows.length);
  for (let i = 0; i < gw.length; i++) gw[i]! *= inv;
  for (let k = 0; k < K; k++) gb[k]! *= inv;
  return loss * inv;
}

/** Per-column mean and std (std floored so constant columns stay finite). */
function columnStats(set: FeatureSet, D: number): { mean: Float64Array; std: Float64Array } {
  const mean = new Float64Array(D);
  const sq = new Float64Array(D);
  for (let i = 0; i < set.n; i++)
    for (let d = 0; d < D; d++) {
      const v = set.x[i * D + d]!;
      mean[d]! += v;
      sq[d]! += v * v;
    }
  const std = new Float64Array(D);
  for (let d = 0; d < D; d++) {
    mean[d]! /= Math.max(1, set.n);
    std[d] = Math.sqrt(Math.max(sq[d]! / Math.max(1, set.n) - mean[d]! ** 2, 0)) || 1;
    if (std[d]! < 1e-6) std[d] = 1;
  }
  return { mean, std };
}

/** Standardises the rows in place (feature sets are large; the raw values are not needed afterwards). */
function standardise(set: FeatureSet, D: number, mean: Float64Array, std: Float64Array): FeatureSet {
  for (let i = 0; i < set.n; i++)
    for (let d = 0; d < D; d++) set.x[i * D + d] = (set.x[i * D + d]! - mean[d]!) / std[d]!;
  return set;
}

/** Trains on `train` (validation picks the epoch). Both feature sets are standardised in place. */
export function trainSoftmaxRegression(
  train: FeatureSet,
  features: number,
  classes: number,
  val: FeatureSet | undefined,
  o: SoftmaxTrainOptions = {},
): LinearHead {
  const D = features;
  const K = classes;
  const epochs = o.epochs ?? 20;
  const batch = o.batch ?? 256;
  const lr0 = o.lr ?? 2e-3;
  const wd = o.weightDecay ?? 1e-4;
  const rand = seededRandom(o.seed ?? 1);
  const { mean, std } = columnStats(train, D);
  const tr = standardise(train, D, mean, std);
  const va = val && val.n ? standardise(val, D, mean, std) : undefined;

  const w = new Float32Array(K * D);
  const b = new Float32Array(K);
  const gw = new Float64Array(K * D);
  const gb = new Float64Array(K);
  const [mw, vw, mb, vb] = [
    new Float64Array(K * D),
    new Float64Array(K * D),
    new Float64Array(K),
    new Float64Array(K),
  ];
  const [beta1, beta2, eps] = [0.9, 0.999, 1e-8];
  const steps = Math.ceil(tr.n / batch);
  let t = 0;
  let best = { accuracy: -1, epoch: 0, w: w.slice(), b: b.slice() };
  for (let epoch = 0; epoch < epochs; epoch++) {
    const order = shuffled(tr.n, rand);
    for (let s = 0; s < steps; s++) {
      const rows = order.subarray(s * batch, Math.min(tr.n, (s + 1) * batch));
      lossAndGradient(w, b, tr, rows, D, gw, gb);
      t++;
      const lr = 0.5 * lr0 * (1 + Math.cos((Math.PI * (epoch * steps + s)) / (epochs * steps)));
      const c1 = 1 - beta1 ** t;
      const c2 = 1 - beta2 ** t;
      for (let i = 0; i < w.length; i++) {
        mw[i] = beta1 * mw[i]! + (1 - beta1) * gw[i]!;
        vw[i] = beta2 * vw[i]! + (1 - beta2) * gw[i]! ** 2;
        w[i] = w[i]! - lr * (mw[i]! / c1 / (Math.sqrt(vw[i]! / c2) + eps) + wd * w[i]!);
      }
      for (let k = 0; k < K; k++) {
        mb[k] = beta1 * mb[k]! + (1 - beta1) * gb[k]!;
        vb[k] = beta2 * vb[k]! + (1 - beta2) * gb[k]! ** 2;
        b[k] = b[k]! - lr * (mb[k]! / c1 / (Math.sqrt(vb[k]! / c2) + eps));
      }
    }
    const acc = va ? accuracyOf(w, b, va, D) : undefined;
    o.onEpoch?.(epoch + 1, acc);
    // Keep the epoch that did best on validation data (the last one without it).
    if (acc === undefined || acc > best.accuracy)
      best = { accuracy: acc ?? -1, epoch: epoch + 1, w: w.slice(), b: b.slice() };
  }
  // Fold the standardisation in: W·((x − μ)/σ) + b = (W/σ)·x + (b − Σ W μ/σ).
  const weight = new Float32Array(K * D);
  const bias = new Float32Array(K);
  for (let k = 0; k < K; k++) {
    let shift = 0;
    for (let d = 0; d < D; d++) {
      const v = best.w[k * D + d]! / std[d]!;
      weight[k * D + d] = v;
      shift += v * mean[d]!;
    }
    bias[k] = best.b[k]! - shift;
  }
  const accuracy = best.accuracy >= 0 ? best.accuracy : accuracyOf(best.w, best.b, tr, D);
  return { weight, bias, features: D, classes: K, accuracy, epoch: best.epoch };
}
