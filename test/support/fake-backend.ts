// A small real HTTP server speaking the backend's internal API (POST /infer, POST /cancel/:id, GET /health) with
// controllable delay and failure modes, for tests whose subject is the worker. It records what the worker sent
// (auth header, decoded offloads, cancels) and which /infer connections the worker aborted. Full-stack tests use the
// real gpu-backend instead.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  PROTOCOL_VERSION,
  WIRE_CONTENT_TYPE,
  decodeOffload,
  encodeMessage,
  type OffloadMessage,
  type ResultMessage,
} from '../../core/wire.js';

export type FakeMode = 'ok' | 'fail' | 'garbage';

export interface FakeBackend {
  url: string;
  /** How long /infer waits before answering (a cancel answers it `cancelled` early). */
  delayMs: number;
  mode: FakeMode;
  /** Extra fields in every /cancel answer (e.g. a huge one, to test what the edge keeps of it). */
  cancelExtra: Record<string, unknown>;
  infers: { offload: OffloadMessage; authorization: string | undefined }[];
  cancels: { requestId: string; authorization: string | undefined }[];
  /** Request ids whose /infer connection the client closed before the answer. */
  aborted: string[];
  /** Resolves when the next /infer (or the one for `requestId`) arrives. */
  nextInfer(requestId?: string): Promise<OffloadMessage>;
  close(): Promise<void>;
}

async function readAll(req: IncomingMessage): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return new Uint8Array(Buffer.concat(chunks));
}

export async function startFakeBackend(
  init: Partial<Pick<FakeBackend, 'delayMs' | 'mode'>> = {},
): Promise<FakeBackend> {
  const pending = new Map<string, (r: ResultMessage) => void>();
  const waiters: { id?: string; resolve: (o: OffloadMessage) => void }[] = [];
  const sockets = new Set<import('node:net').Socket>();

  const result = (
    o: OffloadMessage,
    status: ResultMessage['status'],
    extra: Partial<ResultMessage> = {},
  ): ResultMessage => ({
    v: PROTOCOL_VERSION,
    requestId: o.requestId,
    status,
    exit: status === 'done' ? 1 : null,
    label: status === 'done' ? 2 : null,
    confidence: status === 'done' ? 0.9 : null,
    serverMs: 3.5,
    queueMs: 0.5,
    blocksRun: status === 'done' ? 2 - o.split : 0,
    ...extra,
  });

  const onInfer = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const offload = decodeOffload(await readAll(req));
    fake.infers.push({ offload, authorization: req.headers.authorization });
    for (const w of waiters.splice(0)) {
      if (!w.id || w.id === offload.requestId) w.resolve(offload);
      else waiters.push(w);
    }
    let answered = false;
    res.on('close', () => {
      if (!answered) fake.aborted.push(offload.requestId);
      pending.delete(offload.requestId);
    });
    const answer = await new Promise<ResultMessage>((resolve) => {
      const timer = setTimeout(() => resolve(result(offload, 'done')), fake.delayMs);
      pending.set(offload.requestId, (r) => {
        clearTimeout(timer);
        resolve(r);
      });
    });
    if (res.destroyed) return;
    answered = true;
    if (fake.mode === 'garbage') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('this is not msgpack');
    } else if (fake.mode === 'fail') {
      const body = encodeMessage(result(offload, 'failed', { error: 'onnxruntime exploded' }));
      res.writeHead(500, { 'content-type': WIRE_CONTENT_TYPE }).end(body);
    } else {
      res.writeHead(200, { 'content-type': WIRE_CONTENT_TYPE }).end(encodeMessage(answer));
    }
  };

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const cancel = /^\/cancel\/([^/]+)$/.exec(url.pathname);
    if (req.method === 'POST' && url.pathname === '/infer') {
      onInfer(req, res).catch((e: Error) => res.writeHead(400).end(JSON.stringify({ error: e.message })));
    } else if (req.method === 'POST' && cancel) {
      const requestId = decodeURIComponent(cancel[1]!);
      fake.cancels.push({ requestId, authorization: req.headers.authorization });
      const running = pending.get(requestId);
      running?.({ ...result({ requestId, split: 0 } as OffloadMessage, 'cancelled') });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ requestId, cancelled: Boolean(running), ...fake.cancelExtra }));
    } else if (req.method === 'GET' && url.pathname === '/health') {
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ ok: true, ep: 'fake' }));
    } else {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'no route' }));
    }
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;

  const fake: FakeBackend = {
    url: `http://127.0.0.1:${port}`,
    delayMs: init.delayMs ?? 0,
    mode: init.mode ?? 'ok',
    cancelExtra: {},
    infers: [],
    cancels: [],
    aborted: [],
    nextInfer: (id) => new Promise((resolve) => waiters.push({ id, resolve })),
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
  return fake;
}

/** A URL where nothing listens (a port that was just free), to test an unreachable backend. */
export async function deadBackendUrl(): Promise<string> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return `http://127.0.0.1:${port}`;
}
