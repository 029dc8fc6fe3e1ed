// An emulated network link for client tests: a fetch wrapper that really delays each API request and response by
// latency/2 + bytes / bandwidth (so the client's measured bandwidth and RTT come from real elapsed time), with
// bandwidth and latency changeable mid-test. Model downloads (/v1/models/...) pass undelayed.

export interface EmulatedLink {
  fetch: typeof fetch;
  bandwidthBps: number;
  latencyMs: number;
  /** Label for reports: how the condition was produced. */
  describe(): string;
}

function sleep(ms: number, signal?: AbortSignal | null): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(t), reject(signal.reason)), { once: true });
  });
}

function bodyBytes(body: BodyInit | null | undefined): number {
  if (!body) return 0;
  if (typeof body === 'string') return new TextEncoder().encode(body).byteLength;
  if (body instanceof ArrayBuffer) return body.byteLength;
  if (ArrayBuffer.isView(body)) return body.byteLength;
  return 0;
}

export function emulatedLink(bandwidthBps: number, latencyMs: number): EmulatedLink {
  const link: EmulatedLink = {
    bandwidthBps,
    latencyMs,
    describe: () =>
      `injected fetch delaying each way by ${link.latencyMs / 2} ms + bytes / ${link.bandwidthBps} B/s`,
    fetch: async (input, init) => {
      const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
      if (url.includes('/v1/models')) return globalThis.fetch(input, init);
      const transfer = (bytes: number) => link.latencyMs / 2 + (bytes / link.bandwidthBps) * 1000;
      await sleep(transfer(bodyBytes(init?.body)), init?.signal);
      const res = await globalThis.fetch(input, init);
      const data = new Uint8Array(await res.arrayBuffer());
      await sleep(transfer(data.byteLength), init?.signal);
      return new Response(data, { status: res.status, statusText: res.statusText, headers: res.headers });
    },
  };
  return link;
}
