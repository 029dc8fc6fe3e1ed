// A real HTTP server (node:http) standing in for the edge worker in client tests, run as its own process by
// edge-stub.ts (`node --import tsx`), so a client busy in wasm compute and the "edge" never share an event loop —
// as on two machines. It serves the model routes from models/ on disk and answers `POST /v1/infer` with a real
// result computed by onnxruntime-node through the core executor over the same block files, after a configurable
// delay — or fails, hangs, resets the connection, or answers `failed`. It records offloads, cancels
// (`DELETE /v1/requests/:id`) and offload connections the client closed. Test-only control routes:
// `POST /_control` (JSON: mode, delayMs, nextPlan, corruptFile) and `GET /_records`.

import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import type { InferenceSession } from 'onnxruntime-common';
import * as ortNode from 'onnxruntime-node';
import type { ModelManifest } from '../../../core/manifest.js';
import { runProgressive, type SessionProvider } from '../../../core/progressive-executor.js';
import { offloadInput } from '../../../core/input-pixels.js';
import { decodeTensor } from '../../../core/tensor-codec.js';
import {
  decodeOffload,
  encodeMessage,
  PROTOCOL_VERSION,
  WIRE_CONTENT_TYPE,
  type OffloadMessage,
  type ResultMessage,
} from '../../../core/wire.js';
import { MODEL_DIR, readManifest } from './reference.js';
import { DEFAULT_CONTROL, type StubControl, type StubRecords } from './edge-stub-types.js';

async function readAll(req: IncomingMessage): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return new Uint8Array(Buffer.concat(chunks));
}

function nodeSessions(manifest: ModelManifest): SessionProvider & { all(): Promise<unknown> } {
  const cache = new Map<string, Promise<InferenceSession>>();
  const get = (file: string) => {
    let p = cache.get(file);
    if (!p) cache.set(file, (p = ortNode.InferenceSession.create(join(MODEL_DIR, file))));
    return p;
  };
  return {
    block: (i) => get(manifest.blocks[i]!.file),
    exit: (i) => get(manifest.exits[i]!.file),
    all: () => Promise.all([...manifest.blocks, ...manifest.exits].map((f) => get(f.file))),
  };
}

async function main(): Promise<void> {
  const manifest = readManifest();
  const sessions = nodeSessions(manifest);
  await sessions.all();
  const control: StubControl = { ...DEFAULT_CONTROL };
  const records: StubRecords = { offloads: [], deletes: [], aborted: [], fileGets: [], results: [] };
  const hanging = new Map<string, (r: ResultMessage) => void>();
  const sockets = new Set<Socket>();

  const result = (requestId: string, fields: Partial<ResultMessage>): ResultMessage => ({
    v: PROTOCOL_VERSION,
    requestId,
    status: 'done',
    exit: null,
    label: null,
    confidence: null,
    serverMs: 0,
    queueMs: 0,
    blocksRun: 0,
    plan: control.nextPlan,
    ...fields,
  });

  const compute = async (o: OffloadMessage): Promise<ResultMessage> => {
    const { values, shape } = decodeTensor(o.tensor);
    const r = await runProgressive({
      manifest,
      sessions,
      createTensor: (v, d) => new ortNode.Tensor('float32', v, d),
      input: offloadInput(manifest, o.tensor.codec.scheme, values),
      inputShape: shape,
      fromBlock: o.split,
      toBlock: manifest.blocks.length,
      threshold: o.threshold,
    });
    if (r.outcome.kind !== 'exit') throw new Error('server run did not exit');
    return result(o.requestId, {
      exit: r.outcome.exit,
      label: r.outcome.label,
      confidence: r.outcome.confidence,
      serverMs: r.computeMs,
      queueMs: 0,
      blocksRun: r.blocksRun,
    });
  };

  const send = (res: ServerResponse, m: ResultMessage) => {
    if (res.destroyed) return;
    records.results.push(m);
    res.writeHead(200, { 'content-type': WIRE_CONTENT_TYPE }).end(encodeMessage(m));
  };

  const infer = async (req: IncomingMessage, res: ServerResponse) => {
    const body = await readAll(req);
    const o = decodeOffload(body);
    records.offloads.push({
      requestId: o.requestId,
      modelId: o.modelId,
      split: o.split,
      threshold: o.threshold,
      shape: o.tensor.shape,
      dataBytes: o.tensor.data.byteLength,
      bytes: body.byteLength,
    });
    res.on('close', () => {
      if (!res.writableEnded) records.aborted.push(o.requestId);
    });
    switch (control.mode) {
      case 'http-500':
        res.writeHead(500, { 'content-type': 'text/plain' }).end('backend exploded');
        return;
      case 'reset':
        req.socket.destroy();
        return;
      case 'hang':
        hanging.set(o.requestId, (m) => send(res, m));
        return;
      case 'status-failed': {
        const m = await compute(o);
        send(res, {
          ...m,
          status: 'failed',
          exit: null,
          label: null,
          confidence: null,
          error: 'GPU on fire',
        });
        return;
      }
      case 'ok': {
        const m = await compute(o);
        if (control.delayMs > 0) await new Promise((r) => setTimeout(r, control.delayMs));
        send(res, m);
      }
    }
  };

  const json = (res: ServerResponse, value: unknown) =>
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(value));

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://stub');
    const handle = async () => {
      if (url.pathname === '/_control' && req.method === 'POST') {
        Object.assign(control, JSON.parse(new TextDecoder().decode(await readAll(req))));
        return json(res, control);
      }
      if (url.pathname === '/_records') return json(res, records);
      const model = /^\/v1\/models\/([^/]+)\/(manifest|files\/(.+))$/.exec(url.pathname);
      if (req.method === 'GET' && model) {
        if (model[1] !== manifest.id) return void res.writeHead(404).end();
        const file = model[2] === 'manifest' ? 'manifest.json' : decodeURIComponent(model[3]!);
        if (model[2] !== 'manifest') records.fileGets.push(file);
        const bytes = await readFile(join(MODEL_DIR, file));
        if (file === control.corruptFile) bytes[bytes.length - 1]! ^= 0xff;
        return void res.writeHead(200).end(bytes);
      }
      if (req.method === 'POST' && url.pathname === '/v1/infer') return infer(req, res);
      const cancel = /^\/v1\/requests\/([A-Za-z0-9_-]+)$/.exec(url.pathname);
      if (req.method === 'DELETE' && cancel) {
        const id = cancel[1]!;
        records.deletes.push(id);
        hanging.get(id)?.(result(id, { status: 'cancelled' }));
        hanging.delete(id);
        return json(res, { cancelled: true });
      }
      res.writeHead(404).end();
    };
    handle().catch((e: unknown) => {
      if (!res.headersSent) res.writeHead(500).end(String(e));
    });
  });
  server.keepAliveTimeout = 120_000;
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  process.stdout.write(
    `${JSON.stringify({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })}\n`,
  );
  process.on('SIGTERM', () => {
    for (const s of sockets) s.destroy();
    server.close(() => process.exit(0));
  });
}

await main();
