// The fetch the demo hands SpinnClient. It (1) EMULATES a slower uplink: a POST /v1/infer is held back for
// bytes × 8 / bandwidth before it is sent (client-side only: the real loopback transfer follows at full speed,
// nothing is shaped in the network), (2) records what each request put on the wire for the timeline (offload
// sent/answered with bytes and the edge's Server-Timing, DELETE cancels), and (3) counts model-file downloads for the loading indicator.

import { parseServerTiming, type ServerTiming } from './server-timing.js';

export interface LinkEvents {
  /** Offload: when fetch was called, how long the emulated link held it, bytes, when the response arrived. */
  offload?: {
    at: number;
    heldMs: number;
    bytes: number;
    sentAt: number;
    answeredAt?: number;
    status?: number;
    /** The edge's Server-Timing (ms by name: edge, backend, queue, compute). */
    serverTiming?: ServerTiming;
  };
  /** DELETE /v1/requests/:id sent by the client (it gave up on the server's answer). */
  cancel?: { at: number; status?: number | string };
}

export class EmulatedLink {
  /** Emulated uplink bandwidth in bits per second; 0 = no emulation. */
  bandwidthBps = 0;
  /** Where the current request's events go (set by the page around each classify). */
  sink: LinkEvents | undefined;
  /** Model files downloaded so far (for "loading 12/36"). */
  modelFiles = 0;
  onModelFile: (() => void) | undefined;

  constructor(private readonly now: () => number = () => performance.now()) {}

  readonly fetch: typeof fetch = async (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const method = (init?.method ?? 'GET').toUpperCase();
    const path = new URL(url, location.href).pathname;
    if (method === 'POST' && path.endsWith('/v1/infer')) return this.offload(url, init!);
    if (method === 'DELETE' && path.includes('/v1/requests/')) {
      const ev = { at: this.now() } as NonNullable<LinkEvents['cancel']>;
      if (this.sink) this.sink.cancel = ev;
      try {
        const res = await fetch(input, init);
        ev.status = res.status;
        return res;
      } catch (e) {
        ev.status = 'network error';
        throw e;
      }
    }
    const res = await fetch(input, init);
    if (path.includes('/files/')) {
      this.modelFiles++;
      this.onModelFile?.();
    }
    return res;
  };

  private async offload(url: string, init: RequestInit): Promise<Response> {
    const bytes = (init.body as Uint8Array | undefined)?.byteLength ?? 0;
    const at = this.now();
    const heldMs = this.bandwidthBps > 0 ? (bytes * 8 * 1000) / this.bandwidthBps : 0;
    const ev: NonNullable<LinkEvents['offload']> = { at, heldMs, bytes, sentAt: at };
    if (this.sink) this.sink.offload = ev;
    if (heldMs > 0) await abortableDelay(heldMs, init.signal ?? undefined);
    ev.sentAt = this.now();
    const res = await fetch(url, init);
    ev.answeredAt = this.now();
    ev.status = res.status;
    const timing = parseServerTiming(res.headers.get('server-timing'));
    if (timing) ev.serverTiming = timing;
    return res;
  }
}

function abortableDelay(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}

/** Bandwidth choices offered by the page (bits per second; 0 = off). */
export const BANDWIDTHS: ReadonlyArray<{ bps: number; label: string }> = [
  { bps: 0, label: 'Off (real loopback link)' },
  { bps: 50e6, label: '50 Mbit/s (emulated)' },
  { bps: 10e6, label: '10 Mbit/s (emulated)' },
  { bps: 2e6, label: '2 Mbit/s (emulated)' },
  { bps: 500e3, label: '500 kbit/s (emulated)' },
  { bps: 100e3, label: '100 kbit/s (emulated)' },
];
