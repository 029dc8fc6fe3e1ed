// The envelope of every wire message (core/wire.ts): the protocol version, the content type, msgpack encoding and
// the hardened decode up to the version check. Kept apart from the message schemas so the client's bundle can speak
// the protocol without pulling zod in (it checks results with its zod/mini mirror, client/checks/wire.ts).

import { MsgpackError, packMsgpack, unpackMsgpack } from './msgpack.js';
import { describeValue } from './public-error.js';
import type { WireMessage } from './wire.js';

/**
 * Current protocol version. Peers reject any other with a clear error (HTTP 400 at the edge) naming the versions
 * they speak (SPOKEN_PROTOCOL_VERSIONS).
 * 1: raw fp32 activations only. 2: compressed codecs (sparse bitmap + quantisation + deflate), the SLA and
 * scheduler fields (plan estimates, context), Edgent-style truncated exits, and the server's load in results.
 * 3: small messages. No `kind` (the route says what a body is); an offload carries `context` and `sla` only when
 * the client asks the edge to plan again, and `debug` when it wants the plan's reasons; a result carries the next
 * plan only when it differs from the plan the offload ran, its reasons, estimates and the backend's load only on
 * `debug`, and (from the edge) no `requestId`: the answer belongs to the request that asked.
 */
export const PROTOCOL_VERSION = 3;

/** Every protocol version this code reads and writes (today only the current one). */
export const SPOKEN_PROTOCOL_VERSIONS: readonly number[] = [PROTOCOL_VERSION];

/** MIME type of msgpack bodies on every hop. */
export const WIRE_CONTENT_TYPE = 'application/vnd.spinn+msgpack';

export class WireError extends Error {
  override readonly name = 'WireError';
}

export function encodeMessage(msg: WireMessage): Uint8Array {
  return packMsgpack(msg);
}

/** A msgpack map of the current protocol version, or a WireError; the schemas check the rest. */
export function unpack(body: Uint8Array): Record<string, unknown> {
  let value: unknown;
  try {
    value = unpackMsgpack(body);
  } catch (e) {
    if (e instanceof MsgpackError) throw new WireError(`body is not valid msgpack: ${e.message}`);
    throw e;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new WireError('body must be a msgpack map');
  }
  const v = (value as Record<string, unknown>).v;
  if (typeof v !== 'number' || !SPOKEN_PROTOCOL_VERSIONS.includes(v)) {
    throw new WireError(
      `unsupported protocol version ${describeValue(v)}; this server speaks ${SPOKEN_PROTOCOL_VERSIONS.join(', ')} ` +
        '(update the client library)',
    );
  }
  return value as Record<string, unknown>;
}
