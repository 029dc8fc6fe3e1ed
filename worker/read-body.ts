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
