// The one set of rules an offload must meet for the model it names, shared by the edge worker (which enforces them
// before anything reaches the backend), the backend (which re-checks what it is sent, with the same code) and the
// client (which checks what it is about to send). The message's own types and ranges are core/wire.ts's schema;
// here: the split is a server-side split point of the model, an Edgent-style exit is one the server runs, the tensor
// is exactly that split's activation for batch 1, the codec header fits the shape, the payload has the length the
// header allows, and — after a full decode — every value is finite and of a sane magnitude. Each failure is an
// OffloadError naming the problem; the services answer it with HTTP 400 and its message.

import { offloadInput, pixelPayloadProblem } from './input-pixels.js';
import type { ModelManifest } from './manifest.js';
import { splitInfo } from './manifest-rules.js';
import {
  CodecError,
  checkHeader,
  checkTensor,
  decodeTensor,
  elementCount,
  payloadBounds,
  type CodecHeader,
} from './tensor-codec.js';
import type { OffloadMessage } from './wire.js';

/**
 * Largest activation magnitude accepted. A trained CNN's activations are orders of magnitude smaller (on
 * resnet56-fmnist they stay below 100); values near float32's limit overflow inside the network and turn the
 * server's logits non-finite (measured on resnet56-fmnist: every split and exit stays finite up to 1e30 and fails
 * at 3e38), so such an input is the client's mistake and must be a 400, not a failed backend run.
 */
export const MAX_ABS_ACTIVATION = 1e9;

/** Which rule an offload broke (for metrics and tests; the message says it for people). */
export type OffloadProblem = 'split' | 'exit' | 'shape' | 'codec' | 'payload' | 'values';

export class OffloadError extends Error {
  override readonly name = 'OffloadError';
  constructor(
    readonly problem: OffloadProblem,
    message: string,
  ) {
    super(message);
  }
}

/** An offload that met every rule, with its activation decoded once. */
export interface ValidatedOffload {
  offload: OffloadMessage;
  /** What the model runs on from the split: the decoded activation, or u8 input pixels normalised by the recipe. */
  values: Float32Array;
  shape: number[];
}

/** Split points the server can finish from: the manifest's, short of the last block (nothing would be left). */
export function serverSplits(manifest: ModelManifest): number[] {
  return manifest.splits.map((s) => s.split).filter((s) => s < manifest.blocks.length);
}

/** The shape a split's tensor must have on the wire: the manifest's shape with the batch dimension set to 1. */
export function expectedShape(manifest: ModelManifest, split: number): number[] {
  return splitInfo(manifest, split).tensor.shape.map((d, i) => (i === 0 ? 1 : d));
}

const dims = (s: readonly number[]) => `[${s.join(',')}]`;

/**
 * Every rule that needs no decoding: split, exit, shape, codec header and payload length. Returns the typed header
 * and the element count, so a decode that follows does not repeat the work.
 */
export function checkOffloadFields(
  manifest: ModelManifest,
  offload: OffloadMessage,
): { header: CodecHeader; elements: number } {
  const { split } = offload;
  const splits = serverSplits(manifest);
  if (!splits.includes(split)) {
    throw new OffloadError(
      'split',
      `split ${split} is not a server-side split point of model ${manifest.id}; valid: ${splits.join(', ')}`,
    );
  }
  if (offload.exit !== undefined) {
    const only = manifest.exits[offload.exit];
    if (!only || only.afterBlock < split) {
      throw new OffloadError(
        'exit',
        `exit ${offload.exit} is not a server-side exit of ${manifest.id} at split ${split}`,
      );
    }
  }
  const pixels = pixelPayloadProblem(manifest, split, offload.tensor.codec.scheme);
  if (pixels) throw new OffloadError('codec', pixels);
  const want = expectedShape(manifest, split);
  const got = offload.tensor.shape;
  if (got.length !== want.length || got.some((d, i) => d !== want[i])) {
    throw new OffloadError(
      'shape',
      `tensor shape ${dims(got)} does not match split ${split} of ${manifest.id}: expected ${dims(want)}`,
    );
  }
  const elements = elementCount(want);
  let header: CodecHeader;
  try {
    header = checkHeader(offload.tensor.codec, want, elements);
  } catch (e) {
    if (e instanceof CodecError) throw new OffloadError('codec', `bad codec header: ${e.message}`);
    throw e;
  }
  if (header.scheme === 'quant') checkQuantRange(header);
  const { min, max } = payloadBounds(header, elements);
  const len = offload.tensor.data.byteLength;
  if (len < min || len > max) {
    throw new OffloadError(
      'payload',
      `${header.scheme} payload is ${len} bytes; its header and shape ${dims(got)} allow ` +
        (min === max ? `${min}` : `${min}..${max}`),
    );
  }
  return { header, elements };
}

/** The values a quant header can decode to, checked against the magnitude bound before decoding. */
function checkQuantRange(h: Extract<CodecHeader, { scheme: 'quant' }>): void {
  const levels = (1 << h.bits) - 1;
  for (let g = 0; g < h.min.length; g++) {
    const lo = h.min[g]!;
    const hi = Math.fround(lo + levels * h.step[g]!);
    if (!(Math.abs(lo) <= MAX_ABS_ACTIVATION && Math.abs(hi) <= MAX_ABS_ACTIVATION)) {
      throw new OffloadError(
        'codec',
        `bad codec header: quant group ${g} decodes to [${lo}, ${hi}], beyond ±${MAX_ABS_ACTIVATION}`,
      );
    }
  }
}

/** Every value finite and within ±MAX_ABS_ACTIVATION (the client runs it on what it is about to send). */
export function checkActivationValues(values: Float32Array): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    // One comparison per value covers NaN (false) and ±Infinity (beyond the bound).
    if (!(v <= MAX_ABS_ACTIVATION && v >= -MAX_ABS_ACTIVATION)) {
      throw new OffloadError(
        'values',
        `activation value ${v} at index ${i} is ${Number.isFinite(v) ? `beyond ±${MAX_ABS_ACTIVATION}` : 'not finite'}`,
      );
    }
  }
}

/**
 * All the rules, for a hop that forwards the offload and never runs it (the edge): the same verdict as
 * validateOffload, but a quant tensor is not turned into values, because its header bounds them (checkQuantRange;
 * core/tensor-codec.ts's checkTensor says why that is exact). About 0.1 ms less per offload than validateOffload.
 */
export function checkOffload(manifest: ModelManifest, offload: OffloadMessage): void {
  checkOffloadFields(manifest, offload);
  let values: Float32Array | null;
  try {
    values = checkTensor(offload.tensor).values;
  } catch (e) {
    if (e instanceof CodecError) throw new OffloadError('payload', `bad tensor payload: ${e.message}`);
    throw e;
  }
  if (values) checkActivationValues(values);
}

/** All the rules, with the full decode: what the backend runs on every offload (it needs the values). */
export function validateOffload(manifest: ModelManifest, offload: OffloadMessage): ValidatedOffload {
  checkOffloadFields(manifest, offload);
  let decoded: { values: Float32Array; shape: number[] };
  try {
    decoded = decodeTensor(offload.tensor);
  } catch (e) {
    if (e instanceof CodecError) throw new OffloadError('payload', `bad tensor payload: ${e.message}`);
    throw e;
  }
  checkActivationValues(decoded.values);
  const values = offloadInput(manifest, offload.tensor.codec.scheme, decoded.values);
  return { offload, values, shape: decoded.shape };
}
