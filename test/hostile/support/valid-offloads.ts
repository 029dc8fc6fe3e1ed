// Real offloads with known answers, for the hostile tests to mix in with what they throw at the services: real
// Fashion-MNIST images, the device side computed with onnxruntime-node over the real block files, and the answer the
// original single model gives under core's exit rule. Lossless codecs only, so the server's answer must be exactly
// that one. Each call of `body()` gets a fresh request id.

import type { CodecSpec } from '../../../core/codec-spec.js';
import { encodeTensor } from '../../../core/tensor-codec.js';
import { PROTOCOL_VERSION, encodeMessage, type OffloadMessage } from '../../../core/wire.js';
import { loadFmnistTest } from '../../client/support/fmnist.js';
import { expectedAnswer, readManifest, referenceLogits } from '../../client/support/reference.js';
import { DeviceSide } from '../../gpu-backend/helpers.js';
import { preprocessGray } from '../../../core/preprocess.js';

export interface KnownOffload {
  /** The offload (with a placeholder request id). */
  message: OffloadMessage;
  /** The label the progressive model must answer. */
  label: number;
  /** The exit it must answer at. */
  exit: number;
  /** Encoded with a fresh request id. */
  body(requestId: string): Uint8Array;
}

export const manifest = readManifest();

/** `images` test images × the given splits × fp32/lossless, each with its expected answer. */
export async function knownOffloads(
  images: number,
  splits: readonly number[] = [0, 3, 5, 9, 13, 20, 27],
  offset = 0,
): Promise<KnownOffload[]> {
  const samples = loadFmnistTest(images, offset);
  const logits = await referenceLogits(manifest, samples);
  const device = await DeviceSide.load();
  const out: KnownOffload[] = [];
  for (const [i, s] of samples.entries()) {
    const image = preprocessGray(s.pixels, manifest.input);
    for (const [k, split] of splits.entries()) {
      const act = await device.activation(image, split);
      const threshold = k % 2 ? 0.9 : 1;
      // The device's exits (before the split) are not the server's: the answer comes from the first exit after it.
      const fromExit = manifest.exits.findIndex((e) => e.afterBlock >= split);
      const want = expectedAnswer(logits[i]!, threshold, manifest, fromExit);
      const codec: CodecSpec = (i + k) % 2 ? { scheme: 'lossless' } : { scheme: 'fp32' };
      const message: OffloadMessage = {
        v: PROTOCOL_VERSION,
        requestId: 'placeholder-id',
        modelId: manifest.id,
        split,
        threshold,
        tensor: encodeTensor(act.values, act.shape, codec),
        context: { deviceMs: 1.5 },
      };
      out.push({
        message,
        label: want.label,
        exit: want.exit,
        body: (requestId) => encodeMessage({ ...message, requestId }),
      });
    }
  }
  return out;
}
