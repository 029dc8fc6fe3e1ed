// An onnxruntime module wrapper for tests that must decide a race by a gate: every run of one model file (found by
// its sha256, as the manifest lists it) first awaits `gate()`. The client accepts any such wrapper as its `ort`
// (client/ort-module.ts), so the device's continuation can be made to wait for an event — "the backend now holds the
// job" — instead of for time.

import { createHash } from 'node:crypto';
import type { InferenceSession } from 'onnxruntime-common';
import type { OrtModule } from '../../client/ort-module.js';

export function gatedOrt(ort: OrtModule, fileSha256: string, gate: () => Promise<void>): OrtModule {
  return {
    ...ort,
    InferenceSession: {
      async create(model: Uint8Array, options?: InferenceSession.SessionOptions): Promise<InferenceSession> {
        const session = await ort.InferenceSession.create(model, options);
        if (createHash('sha256').update(model).digest('hex') !== fileSha256) return session;
        return new Proxy(session, {
          get(target, prop, receiver) {
            if (prop !== 'run') return Reflect.get(target, prop, receiver) as unknown;
            return async (...args: Parameters<InferenceSession['run']>) => {
              await gate();
              return target.run(...args);
            };
          },
        });
      },
    },
  };
}
