// The Node client's default `fetch`: the WHATWG call the client makes (a URL, method, headers, a byte or text body,
// an AbortSignal), carried by Node's own `http`/`https` with keep-alive agents and answered as a standard
// `Response`. Why: Node's global fetch is undici's WHATWG layer (streams, spec checks), and on every offload it cost
// the device 0.2-0.4 ms more CPU than this path for the same request and answer (`npm run bench:hop`, "client work").
// No dependency: `node:http` is the platform's. Browsers keep their native fetch, whose work runs off the page's
// thread. Bodies are read whole before the Response is made: every call the client makes reads its answer whole.

import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

/**
 * One keep-alive pool per process and scheme, as global fetch keeps one: offloads reuse their connections. An idle
 * connection is closed after 4 s (undici's default too), before a server's own idle timeout (5 s in workerd) can
 * close it just as a request goes out on it, which would fail that request.
 */
const IDLE_MS = 4_000;
const agents = {
  'http:': new HttpAgent({ keepAlive: true, timeout: IDLE_MS }),
  'https:': new HttpsAgent({ keepAlive: true, timeout: IDLE_MS }),
};
const MAX_REDIRECTS = 20;
/** Statuses whose Response has no body (the WHATWG Response constructor refuses one). */
const NULL_BODY = new Set([204, 205, 304]);

function headerObject(h: HeadersInit | undefined): Record<string, string> {
  if (!h) return {};
  if (h instanceof Headers) return Object.fromEntries(h.entries());
  if (Array.isArray(h)) return Object.fromEntries(h);
  return { ...(h as Record<string, string>) };
}

function bytesOf(body: BodyInit | null | undefined): Uint8Array | undefined {
  if (body === null || body === undefined) return undefined;
  if (typeof body === 'string') return new TextEncoder().encode(body);
  if (body instanceof Uint8Array) return body;
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  if (ArrayBuffer.isView(body)) return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  throw new TypeError(
    'nodeFetch: the body must be a string or bytes (use global fetch for streams and forms)',
  );
}

function abortError(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
}

/** One request and its whole answer; rejects as global fetch does (a TypeError with the cause, or the abort). */
function exchange(
  url: URL,
  method: string,
  headers: Record<string, string>,
  body: Uint8Array | undefined,
  signal: AbortSignal | undefined,
): Promise<{ res: IncomingMessage; bytes: Buffer }> {
  const send = url.protocol === 'https:' ? httpsRequest : url.protocol === 'http:' ? httpRequest : undefined;
  if (!send) return Promise.reject(new TypeError(`nodeFetch: unsupported URL scheme ${url.protocol}`));
  if (signal?.aborted) return Promise.reject(abortError(signal));
  return new Promise((resolve, reject) => {
    const length = body ? { 'content-length': String(body.byteLength) } : {};
    const req = send(url, {
      method,
      headers: { ...headers, ...length },
      agent: agents[url.protocol as 'http:'],
    });
    const onAbort = () => req.destroy(abortError(signal!) as Error);
    signal?.addEventListener('abort', onAbort, { once: true });
    const done = () => signal?.removeEventListener('abort', onAbort);
    req.on('error', (e) => {
      done();
      reject(signal?.aborted ? abortError(signal) : new TypeError('fetch failed', { cause: e }));
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', (e) => req.emit('error', e));
      res.on('end', () => {
        done();
        resolve({ res, bytes: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks) });
      });
    });
    req.end(body);
  });
}

function responseHeaders(res: IncomingMessage): Headers {
  const out = new Headers();
  const raw = res.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) out.append(raw[i]!, raw[i + 1]!);
  return out;
}

/** `fetch` for the calls the client makes: a URL (string or URL) as input; a Request, streams and forms are refused. */
export const nodeFetch: typeof fetch = async (input, init = {}) => {
  if (typeof input !== 'string' && !(input instanceof URL))
    throw new TypeError('nodeFetch takes a URL; pass a Request to global fetch instead');
  let url = new URL(input);
  let method = (init.method ?? 'GET').toUpperCase();
  let body = bytesOf(init.body);
  const headers = headerObject(init.headers);
  const signal = init.signal ?? undefined;
  for (let hops = 0; ; hops++) {
    const { res, bytes } = await exchange(url, method, headers, body, signal);
    const status = res.statusCode ?? 0;
    const location = res.headers.location;
    // Redirects are followed as fetch's default `redirect: 'follow'` does (303, and a POST's 301/302, become a GET).
    if (location && [301, 302, 303, 307, 308].includes(status) && init.redirect !== 'manual') {
      if (init.redirect === 'error' || hops >= MAX_REDIRECTS)
        throw new TypeError('fetch failed', { cause: new Error(`redirect from ${url.href} not followed`) });
      url = new URL(location, url);
      if (status === 303 || ((status === 301 || status === 302) && method === 'POST')) {
        method = 'GET';
        body = undefined;
        delete headers['content-type'];
      }
      continue;
    }
    return new Response(NULL_BODY.has(status) ? null : new Uint8Array(bytes), {
      status,
      statusText: res.statusMessage ?? '',
      headers: responseHeaders(res),
    });
  }
};
