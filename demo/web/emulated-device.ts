// An EMULATED slower device: wraps the onnxruntime module handed to SpinnClient so that every session run is
// followed by a pause of (factor − 1) × its measured compute time. SPINN targets phones several times slower than
// the machine this page may run on; the pause stands in for that, and the page labels it as emulated. The wasm
// work itself is real and unchanged; factor 1 adds nothing.

import type { OrtModule } from '../../client/index.js';

export class EmulatedDevice {
  /** Slowdown factor ≥ 1 (1 = this machine's real speed). */
  factor = 1;

  /** The same runtime, with each session's `run` stretched by `factor`. */
  wrap(ort: OrtModule): OrtModule {
    const create: OrtModule['InferenceSession']['create'] = async (model, options) => {
      const session = await ort.InferenceSession.create(model, options);
      const run = session.run.bind(session) as (...a: unknown[]) => Promise<unknown>;
      return new Proxy(session, {
        get: (target, prop, receiver) => {
          if (prop !== 'run') return Reflect.get(target, prop, receiver) as unknown;
          return async (...args: unknown[]) => {
            const t0 = performance.now();
            const out = await run(...args);
            const extra = (this.factor - 1) * (performance.now() - t0);
            if (extra > 0) await new Promise((r) => setTimeout(r, extra));
            return out;
          };
        },
      });
    };
    return { InferenceSession: { create }, Tensor: ort.Tensor, env: ort.env };
  }
}

/** Device speed choices offered by the page. */
export const DEVICE_SPEEDS: ReadonlyArray<{ factor: number; label: string }> = [
  { factor: 1, label: 'This device, real speed' },
  { factor: 2, label: '2× slower (emulated)' },
  { factor: 4, label: '4× slower (emulated)' },
  { factor: 8, label: '8× slower (emulated phone)' },
];
