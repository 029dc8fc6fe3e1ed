// Reads a request body with a hard byte limit and a deadline. The declared content-length is checked first (cheap
// rejection), and the stream is counted while it is read, so a lying or chunked sender cannot make the worker buffer
// more than the limit; and the whole body must arrive within the deadline (408), so a sender trickling a byte a
// second cannot hold the request open for minutes.

import { HttpError } from './http-error.js';

export async function readBodyLimited(
  req: Request,
  maxBytes: number,
  deadlineMs: number,
): Promise<Uint8Array> {
  const declared = req.headers.get('content-length');
  if (declared !== null) {
    const n = Number(declared);
    if (Number.isFinite(n) && n > maxBytes) {
      throw new HttpError(413, `body of ${n} bytes exceeds the limit of ${maxBytes} bytes`);
    }
  }
  if (!req.body) return new Uint8Array(0);
  const reader = req.body.getReader();
  let timer: ReturnType<typeof setTimeout> | null = null;
  const expired = new Promise<'expired'>((resolve) => {
    timer = setTimeout(() => resolve('expired'), deadlineMs);
  });
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const next = await Promise.race([reader.read(), expired]);
      if (next === 'expired') {
        void reader.cancel().catch(() => undefined);
        throw new HttpError(
          408,
          `request body did not arrive within ${deadlineMs} ms (${total} bytes received)`,
        );
      }
      if (next.done) break;
      total += next.value.byteLength;
      if (total > maxBytes) {
        void reader.cancel().catch(() => undefined);
        throw new HttpError(413, `body exceeds the limit of ${maxBytes} bytes`);
      }
      chunks.push(next.value);
    }
  } finally {
    if (timer !== null) clearTimeout(timer);
  }
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/**
 * Before answering an error without reading the request (401, 404, 415, …): reads and drops a declared body of up to
 * `maxBytes` (the offload limit: what the route would have read anyway), so the connection can carry the client's
 * next request. Left unread, workerd closes the connection after the answer, and a client that already reused it for
 * its next request sees that request fail (the hostile storm hit it after 415s with 30 kB bodies;
 * test/worker/connection-reuse.test.ts sends 100-300 kB ones). Bodies declared over the limit, undeclared ones and
 * slow ones are not read (the deadline bounds the wait): their 413 or 408 goes out at once and their connection
 * closes, as it should; reading part of them would only delay that answer and could cut it short.
 */
export async function discardUnreadBody(req: Request, maxBytes: number, deadlineMs: number): Promise<void> {
  if (!req.body || req.bodyUsed) return;
  if (Number(req.headers.get('content-length') ?? Infinity) > maxBytes) return;
  await readBodyLimited(req, maxBytes, deadlineMs).catch(() => undefined);
}

/** True when the request's media type (parameters ignored, case-insensitive) is `expected`. */
export function hasMediaType(req: Request, expected: string): boolean {
  const ct = req.headers.get('content-type');
  if (!ct) return false;
  return ct.split(';')[0]!.trim().toLowerCase() === expected.toLowerCase();
}
