// What an offload puts on the wire: the activation encoded with the plan's codec (pixels at split 0 when the
// caller gave an image) and the offload message around it. Kept apart from the classify flow so the client's
// per-offload work is one small, measurable step (bench:hop times it).

import type { Deflate } from '../core/codec-deflate.js';
import type { CodecSpec } from '../core/codec-spec.js';
import type { Sla } from '../core/sla.js';
import { encodePixels, encodeTensor, type EncodedTensor } from '../core/tensor-codec.js';
import type { ClientContext, OffloadMessage } from '../core/wire.js';
import { PROTOCOL_VERSION } from '../core/wire-envelope.js';
import type { ExecutionPlan } from './client-options.js';

/**
 * The offload's tensor: the input's uint8 pixels when the codec says `u8` and the caller gave an image (only the
 * input, at split 0, can be pixels); raw fp32 when it says `u8` but the caller passed preprocessed floats. `deflate`
 * packs the sparse codecs' payloads (default: core's portable fflate; the Node client passes node:zlib's).
 */
export function encodeActivation(
  codec: CodecSpec,
  activation: { values: Float32Array; shape: number[] },
  pixels: Uint8Array | undefined,
  deflate?: Deflate,
): EncodedTensor {
  if (codec.scheme !== 'u8')
    return encodeTensor(activation.values, activation.shape, codec, deflate ? { deflate } : {});
  return pixels && pixels.length === activation.values.length
    ? encodePixels(pixels, activation.shape)
    : encodeTensor(activation.values, activation.shape, { scheme: 'fp32' });
}

export interface OffloadFields {
  requestId: string;
  modelId: string;
  plan: ExecutionPlan;
  tensor: EncodedTensor;
  /** The client's measurements and SLA, sent when the client asks the edge to plan again (see PlanKeeper). */
  replan?: { context: ClientContext; sla: Sla };
  /** Ask for the plan's reasons and estimates in the result (larger answers; for logs and the demo page). */
  debug?: boolean;
}

export function offloadMessage(f: OffloadFields): OffloadMessage {
  return {
    v: PROTOCOL_VERSION,
    requestId: f.requestId,
    modelId: f.modelId,
    split: f.plan.split,
    threshold: f.plan.threshold,
    ...(f.plan.exit !== undefined ? { exit: f.plan.exit } : {}),
    tensor: f.tensor,
    // Protocol 3: the client's measurements and SLA only when it asks for a replan; nothing in the steady state.
    ...(f.replan ? { context: f.replan.context, sla: f.replan.sla } : {}),
    ...(f.debug ? { debug: true } : {}),
  };
}
