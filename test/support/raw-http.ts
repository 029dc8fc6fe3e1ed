// HTTP/1.1 over a plain socket, for the requests fetch cannot make: a body trickled a byte at a time (the edge's
// body deadline) and a Host header naming another machine (the loopback-only dev mode). It writes the request head,
// then the body bytes at the given pace until the server answers, and returns the answer's status, headers and body.

import { connect } from 'node:net';

export interface RawRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  /** Bytes to send after the head. */
  body?: Uint8Array;
  /** Send the body one byte every `everyMs` ms instead of at once (stops when the answer arrives). */
  trickleEveryMs?: number;
}

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** Body bytes written before the answer arrived. */
  bytesSent: number;
}

export function rawRequest(baseUrl: string, r: RawRequest): Promise<RawResponse> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    const body = r.body ?? new Uint8Array(0);
    let received = Buffer.alloc(0);
    let bytesSent = 0;
    let timer: NodeJS.Timeout | undefined;
    const head =
      `${r.method} ${r.path} HTTP/1.1\r\n` +
      Object.entries(r.headers)
        .map(([k, v]) => `${k}: ${v}\r\n`)
        .join('') +
      '\r\n';

    const parsed = (): RawResponse | undefined => {
      const end = received.indexOf('\r\n\r\n');
      if (end < 0) return undefined;
      const [statusLine, ...lines] = received.subarray(0, end).toString('latin1').split('\r\n');
      const headers = Object.fromEntries(
        lines.map((l) => [
          l.slice(0, l.indexOf(':')).trim().toLowerCase(),
          l.slice(l.indexOf(':') + 1).trim(),
        ]),
      );
      const rest = received.subarray(end + 4);
      const length = Number(headers['content-length'] ?? NaN);
      if (Number.isFinite(length) && rest.length < length) return undefined;
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? '')?.[1]);
      return { status, headers, body: rest.subarray(0, length).toString('utf8'), bytesSent };
    };
    const finish = (res: RawResponse | undefined, err?: Error) => {
      clearInterval(timer);
      socket.destroy();
      if (res) resolve(res);
      else
        reject(err ?? new Error(`connection closed without a full answer: ${received.toString('latin1')}`));
    };

    socket.on('connect', () => {
      socket.write(head);
      if (r.trickleEveryMs === undefined) {
        socket.write(body);
        bytesSent = body.length;
        return;
      }
      timer = setInterval(() => {
        if (bytesSent >= body.length) return clearInterval(timer);
        socket.write(body.subarray(bytesSent, bytesSent + 1));
        bytesSent++;
      }, r.trickleEveryMs);
    });
    socket.on('data', (d: Buffer) => {
      received = Buffer.concat([received, d]);
      const res = parsed();
      if (res) finish(res);
    });
    socket.on('end', () => finish(parsed()));
    socket.on('error', (e) => finish(parsed(), e));
  });
}
