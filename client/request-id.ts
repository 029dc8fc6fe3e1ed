// Request ids: 16 random bytes (crypto.getRandomValues) as 22 characters of base64url, which fits the wire's
// `[A-Za-z0-9_-]{8,64}` and is unguessable, so one client cannot cancel another's request by guessing its id.

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** A fresh url-safe request id of `ceil(bytes * 4 / 3)` characters (22 for the default 16 bytes). */
export function newRequestId(bytes = 16): string {
  const raw = crypto.getRandomValues(new Uint8Array(bytes));
  let out = '';
  let acc = 0;
  let bits = 0;
  for (const b of raw) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += ALPHABET[(acc >> bits) & 63];
    }
    acc &= (1 << bits) - 1;
  }
  if (bits > 0) out += ALPHABET[(acc << (6 - bits)) & 63];
  return out;
}
