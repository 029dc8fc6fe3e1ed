// SHA-256 with WebCrypto (crypto.subtle), available in browsers, workerd and Node >= 19: the client verifies model
// files with it, the edge and the key tool hash API keys with it (core/api-keys.ts).

/** Lower-case hex of `bytes`. */
export function toHex(bytes: Uint8Array): string {
  let hex = '';
  for (const b of bytes) hex += b.toString(16).padStart(2, '0');
  return hex;
}

/** Lower-case hex SHA-256 of `bytes` (a string is hashed as its UTF-8 bytes). */
export async function sha256Hex(bytes: Uint8Array | string): Promise<string> {
  const data = typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes;
  return toHex(new Uint8Array(await crypto.subtle.digest('SHA-256', data as Uint8Array<ArrayBuffer>)));
}
