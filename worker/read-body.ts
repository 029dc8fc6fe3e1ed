// Reads a request body with a hard byte limit. The declared content-length is checked first (cheap rejection), and
// the stream is counted while it is read, so a lying or chunked sender cannot make the worker buffer more than the
// limit.

import { HttpError } from './http-error.js';

export async function readBodyLimited(req: Request, maxBytes: number): Promise<Uint8Array> {
  const declared = req.headers.get('content-length');
  if (declared !== null) {
    const n = Number(declared);
    if (Number.isFinite(n) && n > maxBytes) {
      throw new HttpError(413, `body of ${n} bytes exceeds the limit of ${maxBytes} bytes`);
    }
  }
  if (!req.body) return new Uint8Array(0);
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw new HttpError(413, `body exceeds the limit of ${maxBytes} bytes`);
    }
    chunks.push(value);
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

/** True when the request's media type (parameters ignored, case-insensitive) is `expected`. */
export function hasMediaType(req: Request, expected: string): boolean {
  const ct = req.headers.get('content-type');
  if (!ct) return false;
  return ct.split(';')[0]!.trim().toLowerCase() === expected.toLowerCase();
}

/**
 * Reads and discards what is left of a request body of at most `maxBytes` (beyond it the stream is cancelled). workerd
 * closes a connection whose request body was not consumed, and a client that reuses it (browsers and undici pool
 * connections) then loses its next request with a reset; an error answered before the body was read (415, 404,
 * 400 on the path) must therefore still read it.
 */
export async function drainBody(req: Request, maxBytes: number): Promise<void> {
  if (!req.body || req.bodyUsed) return;
  // A body declared over the limit is refused unread on purpose (413); reading a share of it would only delay that
  // answer, and cancelling the rest can cut the answer short. Such a client is not sent a reusable connection.
  if (Number(req.headers.get('content-length') ?? 0) > maxBytes) return;
  const reader = req.body.getReader();
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      total += value.byteLength;
      if (total > maxBytes) {
        await reader.cancel();
        return;
      }
    }
  } catch {
    // The client went away: nothing left to protect.
  }
}
