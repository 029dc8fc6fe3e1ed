// client/node/node-fetch.ts against a real node:http server: what the client's calls need from `fetch` (bytes out and
// back, headers both ways, keep-alive reuse, bodiless statuses, redirects as fetch follows them) and how it fails
// (an abort before or during the call, a refused connection: the same shapes global fetch rejects with).

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeFetch } from '../../../client/node/node-fetch.js';

type Handler = (req: IncomingMessage, body: Buffer, res: ServerResponse) => void;
const routes = new Map<string, Handler>();
const sockets: number[] = [];
let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      sockets.push(req.socket.remotePort!);
      routes.get(new URL(req.url!, 'http://x').pathname)!(req, Buffer.concat(chunks), res);
    });
  });
  server.keepAliveTimeout = 60_000; // longer than the client's idle close, so that close is the client's
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('nodeFetch', () => {
  it('sends bytes and headers, returns status, headers and bytes, and reuses its connection', async () => {
    routes.set('/echo', (req, body, res) => {
      res.writeHead(201, {
        'content-type': 'application/x-test',
        'x-got': `${req.method} ${req.headers['x-key']}`,
      });
      res.end(Buffer.concat([Buffer.from([body.length]), body]));
    });
    const sent = new Uint8Array([1, 2, 3, 250]);
    const first = sockets.length;
    for (let i = 0; i < 2; i++) {
      const res = await nodeFetch(`${base}/echo`, { method: 'post', headers: { 'x-key': 'k1' }, body: sent });
      expect(res.status).toBe(201);
      expect(res.headers.get('content-type')).toBe('application/x-test');
      expect(res.headers.get('x-got')).toBe('POST k1');
      expect([...new Uint8Array(await res.arrayBuffer())]).toEqual([4, 1, 2, 3, 250]);
    }
    expect(sockets[first + 1]).toBe(sockets[first]); // the second call rode the first one's connection
  });

  it('answers JSON and text bodies, and bodiless statuses with a null body', async () => {
    routes.set('/json', (_req, body, res) => res.end(JSON.stringify({ got: JSON.parse(body.toString()) })));
    routes.set('/none', (_req, _body, res) => res.writeHead(204).end());
    const res = await nodeFetch(new URL(`${base}/json`), {
      method: 'POST',
      headers: new Headers({ 'content-type': 'application/json' }),
      body: JSON.stringify({ a: 1 }),
    });
    expect(await res.json()).toEqual({ got: { a: 1 } });
    const none = await nodeFetch(`${base}/none`, { method: 'DELETE' });
    expect(none.status).toBe(204);
    expect(none.body).toBeNull();
  });

  it('follows redirects as fetch does: 303 becomes a GET, 307 keeps the method and body', async () => {
    routes.set('/see-other', (_req, _body, res) => res.writeHead(303, { location: '/echo-method' }).end());
    routes.set('/temporary', (_req, _body, res) => res.writeHead(307, { location: '/echo-method' }).end());
    routes.set('/echo-method', (req, body, res) => res.end(`${req.method} ${body.length}`));
    const post = { method: 'POST', body: new Uint8Array(5) };
    expect(await (await nodeFetch(`${base}/see-other`, post)).text()).toBe('GET 0');
    expect(await (await nodeFetch(`${base}/temporary`, post)).text()).toBe('POST 5');
    const manual = await nodeFetch(`${base}/temporary`, { ...post, redirect: 'manual' });
    expect(manual.status).toBe(307);
  });

  it('rejects with the abort reason when aborted before or during the call', async () => {
    routes.set('/slow', (_req, _body, res) => setTimeout(() => res.end('late'), 2000));
    const before = new AbortController();
    before.abort();
    await expect(nodeFetch(`${base}/slow`, { signal: before.signal })).rejects.toMatchObject({
      name: 'AbortError',
    });
    const during = new AbortController();
    const call = nodeFetch(`${base}/slow`, { signal: during.signal });
    setTimeout(() => during.abort(), 50);
    const t0 = Date.now();
    await expect(call).rejects.toMatchObject({ name: 'AbortError' });
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  it('rejects a refused connection as fetch does (TypeError, the socket error as its cause)', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const err = await nodeFetch(`http://127.0.0.1:${port}/`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TypeError);
    expect((err as { cause?: { code?: string } }).cause?.code).toBe('ECONNREFUSED');
  });

  it('refuses what it does not carry: a Request object, a stream body, another scheme', async () => {
    await expect(nodeFetch(new Request(`${base}/echo`))).rejects.toThrow(/takes a URL/);
    const stream = new ReadableStream({ start: (c) => c.close() });
    await expect(nodeFetch(`${base}/echo`, { method: 'POST', body: stream })).rejects.toThrow(
      /string or bytes/,
    );
    await expect(nodeFetch('ftp://127.0.0.1/')).rejects.toThrow(/unsupported URL scheme/);
  });

  it('closes an idle connection after 4 s, before a server would (workerd: 5 s), and opens a new one', async () => {
    routes.set('/idle', (_req, _body, res) => res.end('ok'));
    const first = sockets.length;
    await (await nodeFetch(`${base}/idle`)).text();
    await new Promise((r) => setTimeout(r, 5_000));
    await (await nodeFetch(`${base}/idle`)).text();
    expect(sockets[first + 1]).not.toBe(sockets[first]);
  }, 15_000);
});
