import { describe, expect, it } from 'vitest';
import {
  lossAndGradient,
  seededRandom,
  trainSoftmaxRegression,
  type FeatureSet,
} from '../../../tools/exits/softmax-regression.js';

/** n points in D dims, class = which of K random centres is nearest, plus noise. */
function blobs(n: number, D: number, K: number, seed: number, noise = 0.3): FeatureSet {
  const r = seededRandom(seed);
  const centres = Array.from({ length: K }, () => Array.from({ length: D }, () => r() * 4 - 2));
  const x = new Float32Array(n * D);
  const y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = i % K;
    for (let d = 0; d < D; d++) x[i * D + d] = centres[y[i]!]![d]! + noise * (r() - 0.5) + 5; // offset: tests standardisation
  }
  return { x, y, n };
}

describe('softmax regression (exit heads)', () => {
  it('has the gradient of its loss (finite differences)', () => {
    const D = 5;
    const K = 3;
    const set = blobs(12, D, K, 1);
    const r = seededRandom(2);
    const w = Float32Array.from({ length: K * D }, () => r() - 0.5);
    const b = Float32Array.from({ length: K }, () => r() - 0.5);
    const rows = Array.from({ length: set.n }, (_, i) => i);
    const gw = new Float64Array(K * D);
    const gb = new Float64Array(K);
    lossAndGradient(w, b, set, rows, D, gw, gb);
    const scratchW = new Float64Array(K * D);
    const scratchB = new Float64Array(K);
    const h = 1e-3;
    for (const i of [0, 4, 7, 14]) {
      const w1 = w.slice();
      w1[i]! += h;
      const w2 = w.slice();
      w2[i]! -= h;
      const num =
        (lossAndGradient(w1, b, set, rows, D, scratchW, scratchB) -
          lossAndGradient(w2, b, set, rows, D, scratchW, scratchB)) /
        (2 * h);
      expect(gw[i]!).toBeCloseTo(num, 3);
    }
  });

  it('separates separable classes and folds its standardisation into the weights', () => {
    const D = 8;
    const head = trainSoftmaxRegression(blobs(400, D, 4, 3), D, 4, blobs(100, D, 4, 3), {
      epochs: 10,
      seed: 1,
    });
    expect(head.accuracy).toBe(1);
    // The exported weights act on raw (unstandardised) features: check on fresh raw data.
    const test = blobs(100, D, 4, 3);
    let hits = 0;
    for (let i = 0; i < test.n; i++) {
      let best = -Infinity;
      let arg = -1;
      for (let k = 0; k < 4; k++) {
        let z = head.bias[k]!;
        for (let d = 0; d < D; d++) z += head.weight[k * D + d]! * test.x[i * D + d]!;
        if (z > best) [best, arg] = [z, k];
      }
      if (arg === test.y[i]) hits++;
    }
    expect(hits).toBe(100);
  });

  it('gives the same head for the same seed', () => {
    const a = trainSoftmaxRegression(blobs(200, 6, 3, 5, 3), 6, 3, undefined, { epochs: 3, seed: 9 });
    const b = trainSoftmaxRegression(blobs(200, 6, 3, 5, 3), 6, 3, undefined, { epochs: 3, seed: 9 });
    expect(Array.from(a.weight)).toEqual(Array.from(b.weight));
  });
});
