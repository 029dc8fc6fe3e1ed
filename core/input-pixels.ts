// The one rule for input pixels on the wire: a `u8` tensor carries the input image at model resolution (uint8 CHW,
// core/preprocess.ts stage 1) and is valid only where the model's input is sent — split 0 — of a model whose
// manifest has a preprocessing recipe; the server turns it into the model input with that same recipe (stage 2), so
// a server-only request computes on exactly the values the client would have computed on. The edge and the backend
// both check offloads with `pixelPayloadProblem`; the backend converts with `offloadInput`.

import type { ModelManifest } from './manifest.js';
import { sendsPixels } from './manifest-rules.js';
import { normalizePixels } from './preprocess.js';

/** Why a tensor with this codec scheme cannot enter the model at `split` (undefined when it can). */
export function pixelPayloadProblem(
  manifest: ModelManifest,
  split: number,
  scheme: string,
): string | undefined {
  if (scheme !== 'u8') return undefined;
  if (sendsPixels(manifest, split)) return undefined;
  return split !== 0
    ? `u8 tensors carry input pixels and are only accepted at split 0, not split ${split}`
    : `model ${manifest.id} has no preprocessing recipe, so it cannot take u8 input pixels; send the preprocessed input`;
}

/** The float32 values the model runs on at `split`: u8 pixels normalised by the manifest's recipe, else as decoded. */
export function offloadInput(manifest: ModelManifest, scheme: string, values: Float32Array): Float32Array {
  return scheme === 'u8' ? normalizePixels(values, manifest.input) : values;
}
