// An OrtModule (the client's injectable runtime, client/ort-module.ts) whose sessions are created once per model
// file and shared by every client of the device process. The evaluation starts a fresh SpinnClient for every cell
// (independent repetitions, no scheduler state carried over) — creating and warming 35 sessions each time would
// cost more device time than the cell measures. `release()` of a shared session is a no-op; the process owns them.

import { createHash } from 'node:crypto';
import type { InferenceSession } from 'onnxruntime-common';
import type { OrtModule } from '../../client/index.js';

export function sharedSessions(ort: OrtModule): OrtModule {
  const sessions = new Map<string, Promise<InferenceSession>>();
  return {
    Tensor: ort.Tensor,
    env: ort.env,
    InferenceSession: {
      create(model, options) {
        const key = createHash('sha256').update(model).digest('hex');
        let s = sessions.get(key);
        if (!s) {
          s = ort.InferenceSession.create(model, options);
          sessions.set(key, s);
          s.catch(() => sessions.delete(key));
        }
        return s.then((inner) => {
          const shared = Object.create(inner) as InferenceSession;
          shared.release = () => Promise.resolve();
          return shared;
        });
      },
    },
  };
}
