// Reads a request body with a hard byte limit and a deadline. The declared content-length is checked first (cheap
// rejection), and the stream is counted while it is read, so a lying or chunked sender cannot make the worker buffer
// more than the limit; and the whole body must arrive within the deadline (408), so a sender trickling a byte a
// second cannot hold the request open for minutes.

import { httpError } from './http-error.js';

export async function readBodyLimited(
  req: Request,
  maxBytes: number,
  deadlineMs: number,
): Promise<Uint8Array> {
  const declared = req.headers.get('content-length');
  if (declared !== null) {
    const n = Number(declared);
    if (Number.isFinite(n) && n > maxBytes) {
      throw httpError(413, `body of ${n} bytes exceeds the limit of ${maxBytes} bytes`);
    }
  }
  if (!req.body) return new Uint8Array(0);
  if (declared !== null && /^\d+$/.test(declared.trim())) return readDeclared(req, deadlineMs);
  const reader = req.body.getReader();
  const { expired, clear } = deadline(deadlineMs);
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const next = await Promise.race([reader.read(), expired]);
      if (next === 'expired') {
        void reader.cancel().catch(() => undefined);
        throw httpError(408, `request body did not arrive within ${deadlineMs} ms (${total} bytes received)`);
      }
      if (next.done) break;
      total += next.value.byteLength;
      if (total > maxBytes) {
        void reader.cancel().catch(() => undefined);
        throw httpError(413, `body exceeds the limit of ${maxBytes} bytes`);
      }
      chunks.push(next.value);
    }
  } finally {
    clear();
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
 * A body whose length was declared (and checked against the limit): the runtime reads exactly that many bytes
 * natively, which costs the edge less than counting chunks in JavaScript (the offload's path; `npm run bench:hop`).
 * The deadline still holds: a sender that declares more than it sends gets 408 when it runs out.
 */
async function readDeclared(req: Request, deadlineMs: number): Promise<Uint8Array> {
  const { expired, clear } = deadline(deadlineMs);
  const reading = req.arrayBuffer();
  try {
    const got = await Promise.race([reading, expired]);
    if (got === 'expired') {
      reading.catch(() => undefined); // abandoned: the connection closes after the answer
      throw httpError(408, `request body did not arrive within ${deadlineMs} ms`);
    }
    return new Uint8Array(got);
  } finally {
    clear();
  }
}

/** Resolves `'expired'` after `ms` unless cleared first. */
function deadline(ms: number): { expired: Promise<'expired'>; clear: () => void } {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<'expired'>((resolve) => {
    timer = setTimeout(() => resolve('expired'), ms);
  });
  return { expired, clear: () => timer !== undefined && clearTimeout(timer) };
}

/**
 * Largest declared body read and dropped before an error answer: eight times the default offload limit. Reading it
 * costs the edge at most that much (and at most BODY_TIMEOUT_MS); not reading it costs the client its next request.
 */
const DISCARD_MAX_BYTES = 8 * 1024 * 1024;

/**
 * Before an error answer (401, 404, 413, 415, …): reads and drops what is left of a declared body of up to
 * DISCARD_MAX_BYTES, within the body deadline, so the connection can carry the client's next request. Left unread,
 * workerd closes the connection after the answer, and a client that already reused it for its next request sees that
 * request fail: ECONNRESET after a 415 with a 30 kB body (found by the hostile storm) and after a 413 for a 200 kB
 * body (test/worker/validation.test.ts); test/worker/validation.test.ts sends 100–300 kB ones. The body is
 * read in full or not at all: cancelling a read half way can cut the answer short. Larger, undeclared or slow bodies
 * are not read; their connection closes, as it should.
 */
export async function discardUnreadBody(req: Request, deadlineMs: number): Promise<void> {
  if (!req.body || req.bodyUsed) return;
  if (Number(req.headers.get('content-length') ?? Infinity) > DISCARD_MAX_BYTES) return;
  await readBodyLimited(req, DISCARD_MAX_BYTES, deadlineMs).catch(() => undefined);
}

/** True when the request's media type (parameters ignored, case-insensitive) is `expected`. */
export function hasMediaType(req: Request, expected: string): boolean {
  const ct = req.headers.get('content-type');
  if (!ct) return false;
  return ct.split(';')[0]!.trim().toLowerCase() === expected.toLowerCase();
}

/** A JSON body read with the same limits (413, 408); a body that is not JSON is a 400 saying why. */
export async function readJsonLimited(req: Request, maxBytes: number, deadlineMs: number): Promise<unknown> {
  const text = new TextDecoder().decode(await readBodyLimited(req, maxBytes, deadlineMs));
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw httpError(400, `body is not JSON: ${(e as Error).message}`);
  }
}
