// Checks an offload against the model it names before any backend work is spent on it: the split must be one of
// the manifest's split points and the tensor must be exactly that split's activation for batch 1, with a payload
// of the right length for its codec. Each failure is a 400 that says what was expected.

import { pixelPayloadProblem } from '../core/input-pixels.js';
import { splitInfo, type ModelManifest } from '../core/manifest.js';
import { checkHeader, CodecError, elementCount, payloadBounds } from '../core/tensor-codec.js';
import type { OffloadMessage } from '../core/wire.js';
import { HttpError } from './http-error.js';

/** The shape a split's tensor must have on the wire: the manifest's shape with the batch dimension set to 1. */
export function expectedShape(manifest: ModelManifest, split: number): number[] {
  const shape = splitInfo(manifest, split).tensor.shape;
  return shape.map((d, i) => (i === 0 ? 1 : d));
}

export function checkOffload(manifest: ModelManifest, offload: OffloadMessage): void {
  const splits = manifest.splits.map((s) => s.split);
  if (!splits.includes(offload.split)) {
    throw new HttpError(
      400,
      `split ${offload.split} is out of range for model ${manifest.id}; valid split points: ${splits.join(', ')}`,
    );
  }
  if (offload.exit !== undefined) {
    const only = manifest.exits[offload.exit];
    if (!only || only.afterBlock < offload.split) {
      throw new HttpError(
        400,
        `exit ${offload.exit} is not a server-side exit of ${manifest.id} at split ${offload.split}`,
      );
    }
  }
  const pixels = pixelPayloadProblem(manifest, offload.split, offload.tensor.codec.scheme);
  if (pixels) throw new HttpError(400, pixels);
  const want = expectedShape(manifest, offload.split);
  const got = offload.tensor.shape;
  if (got.length !== want.length || got.some((d, i) => d !== want[i])) {
    throw new HttpError(
      400,
      `tensor shape [${got.join(',')}] does not match split ${offload.split} of ${manifest.id}: expected [${want.join(',')}]`,
    );
  }
  let n: number;
  try {
    n = elementCount(got);
  } catch (e) {
    throw new HttpError(400, (e as CodecError).message);
  }
  const len = offload.tensor.data.byteLength;
  if (offload.tensor.codec.scheme === 'fp32' && len !== n * 4) {
    throw new HttpError(400, `fp32 payload is ${len} bytes; shape [${got.join(',')}] needs ${n * 4}`);
  }
  // The sparse schemes: header fields against the shape, and the payload within what the header allows.
  let bounds;
  try {
    bounds = payloadBounds(checkHeader(offload.tensor.codec, got, n), n);
  } catch (e) {
    throw new HttpError(400, `bad codec header: ${(e as CodecError).message}`);
  }
  if (len < bounds.min || len > bounds.max) {
    throw new HttpError(
      400,
      `${offload.tensor.codec.scheme} payload is ${len} bytes; its header and shape [${got.join(',')}] allow ` +
        (bounds.min === bounds.max ? `${bounds.min}` : `${bounds.min}..${bounds.max}`),
    );
  }
}
