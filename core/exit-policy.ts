// The early-exit rule, in one place: the executor (client and backend) and the offline profiler must decide
// identically, or the profile would predict a different model from the one that runs.

/** Numerically stable softmax of one row of logits. */
export function softmax(
  logits: ArrayLike<number>,
  offset = 0,
  length = logits.length - offset,
): Float32Array {
  let max = -Infinity;
  for (let i = 0; i < length; i++) max = Math.max(max, logits[offset + i]!);
  const out = new Float32Array(length);
  let sum = 0;
  for (let i = 0; i < length; i++) {
    out[i] = Math.exp(logits[offset + i]! - max);
    sum += out[i]!;
  }
  for (let i = 0; i < length; i++) out[i]! /= sum;
  return out;
}

/** Top-1 class and its softmax probability. */
export function top1(probs: ArrayLike<number>): { label: number; confidence: number } {
  let label = 0;
  for (let i = 1; i < probs.length; i++) if (probs[i]! > probs[label]!) label = i;
  return { label, confidence: probs[label]! };
}

/**
 * Whether a sample leaves at an exit. Threshold 1 (or more) means "no early exit": softmax can round to exactly
 * 1.0 in float32, so `confidence >= 1` alone would still let saturated samples out. The final exit always answers.
 */
export function shouldExit(confidence: number, threshold: number, isFinal: boolean): boolean {
  return isFinal || (threshold < 1 && confidence >= threshold);
}
