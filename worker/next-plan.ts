// Chooses the plan (split, threshold, codec) the edge suggests for the client's next request. For now it echoes the
// plan the client just used; the scheduler issue replaces this module's body, and its signature already carries
// what a scheduler needs (the offload with its client context, the result, the manifest).

import type { ModelManifest } from '../core/manifest.js';
import type { OffloadMessage, Plan, ResultMessage } from '../core/wire.js';

export interface PlanInput {
  offload: OffloadMessage;
  result: ResultMessage;
  manifest: ModelManifest;
}

export function nextPlan({ offload }: PlanInput): Plan {
  return {
    split: offload.split,
    threshold: offload.threshold,
    codec: { scheme: offload.tensor.codec.scheme },
    reason: 'echo of the client plan (no scheduler yet)',
  };
}
