// The backend as a process and an HTTP server: real sockets on an ephemeral port, the bearer token over the wire,
// the bounded queue (503 when full), and shutdown that refuses new work, answers what is in flight and stops the
// workers; plus `npm run backend`'s entry point exiting cleanly on SIGTERM.

import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WIRE_CONTENT_TYPE } from '../../core/wire.js';
import { silentLogger } from '../../gpu-backend/log.js';
import { createBackend, startServer } from '../../gpu-backend/server.js';
import {
  MODELS_DIR,
  inferInit,
  newRequestId,
  offloadBody,
  readResult,
  testConfig,
  testImages,
} from './helpers.js';

const TOKEN = 'server-test-token';
const auth = { authorization: `Bearer ${TOKEN}` };

describe('gpu-backend server', () => {
  const image = testImages(1)[0]!;
  const body = (requestId = newRequestId('srv'), threshold = 1) =>
    offloadBody({ requestId, split: 0, threshold, values: image.slice(), shape: [1, 1, 32, 32] });

  it('serves over HTTP with the token and drains on close', async () => {
    const srv = await startServer(testConfig({ token: TOKEN }), silentLogger);
    try {
      const unauth = await fetch(`${srv.url}/infer`, inferInit(body()));
      expect(unauth.status).toBe(401);
      const health = (await (await fetch(`${srv.url}/health`, { headers: auth })).json()) as {
        status: string;
      };
      expect(health.status).toBe('ok');
      const ok = await readResult(await fetch(`${srv.url}/infer`, inferInit(body(), auth)));
      expect(ok).toMatchObject({ status: 'done', exit: 6, blocksRun: 28 });
      expect(ok.serverMs).toBeGreaterThan(0);

      // Requests in flight when the shutdown starts still get their answers (grace period long enough).
      let answered = 0;
      const inflight = Array.from({ length: 8 }, () =>
        fetch(`${srv.url}/infer`, inferInit(body(), auth))
          .then(readResult)
          .finally(() => answered++),
      );
      const arrived = () => {
        const s = srv.backend.pool.stats();
        return s.busy + s.queued + answered;
      };
      while (arrived() < 8) await new Promise((r) => setTimeout(r, 1));
      // A grace period no busy machine can exhaust: the drain ends when the last answer is out, not at a deadline.
      const closing = srv.close(120_000);
      expect(srv.backend.state.draining).toBe(true);
      // New work during the drain is refused cleanly.
      const refused = await fetch(`${srv.url}/infer`, inferInit(body(), auth));
      expect(refused.status).toBe(503);
      expect(refused.headers.get('connection')).toBe('close');
      const results = await Promise.all(inflight);
      expect(results.every((r) => r.status === 'done')).toBe(true);
      await closing;
      await expect(fetch(`${srv.url}/health`, { headers: auth })).rejects.toThrow();
    } finally {
      await srv.close(0);
    }
  });

  it('cancels what is left when the grace period is over', async () => {
    // The hold gate parks the running job before its first block, so all 20 are still in flight at the close.
    const backend = await createBackend(testConfig({ testHooks: true }), silentLogger);
    backend.pool.setHold(0);
    const inflight = Array.from({ length: 20 }, async () =>
      readResult(await backend.app.request('/infer', inferInit(body()))),
    );
    while (backend.pool.stats().queued < 19 || backend.pool.holdState().held.length < 1)
      await new Promise((r) => setImmediate(r));
    await backend.close(0);
    const results = await Promise.all(inflight);
    expect(results.map((r) => r.status)).toEqual(Array(20).fill('cancelled'));
    const late = await backend.app.request('/infer', inferInit(body()));
    expect(late.status).toBe(503);
    expect(((await late.json()) as { error: string }).error).toMatch(/shutting down/);
  });

  it('answers 503 when the queue is full', async () => {
    // One worker held before its first block and a queue of one: of 6 requests, exactly 4 find no room.
    const backend = await createBackend(testConfig({ maxQueue: 1, testHooks: true }), silentLogger);
    backend.pool.setHold(0);
    try {
      const settled: Response[] = [];
      const pending = Array.from({ length: 6 }, () =>
        Promise.resolve(backend.app.request('/infer', inferInit(body()))).then((r) => (settled.push(r), r)),
      );
      // Only the refusals can settle while the hold stands; wait for them by event-loop turns, not by time.
      while (settled.length < 4) await new Promise((r) => setImmediate(r));
      const full = settled.filter((r) => r.status === 503);
      expect(full).toHaveLength(4);
      expect(backend.pool.stats()).toMatchObject({ busy: 1, queued: 1 });
      backend.pool.setHold(null);
      const responses = await Promise.all(pending);
      expect(full[0]!.headers.get('retry-after')).toBe('1');
      expect(((await full[0]!.json()) as { error: string }).error).toMatch(
        /overloaded: all 1 workers are busy and 1 requests are queued/,
      );
      for (const r of responses.filter((x) => x.status !== 503))
        expect((await readResult(r)).status).toBe('done');
    } finally {
      await backend.close(0);
    }
  });

  it('runs as a process and exits 0 on SIGTERM', async () => {
    const root = resolve(import.meta.dirname, '../..');
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'gpu-backend/main.ts',
        '--port',
        '0',
        '--workers',
        '1',
        '--threads',
        '1',
        '--models-dir',
        MODELS_DIR,
      ],
      { cwd: root, env: { ...process.env, SPINN_BACKEND_TOKEN: TOKEN }, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let log = '';
    /** The JSON log lines so far (one object per line, pino). */
    const lines = () =>
      log
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    const url = await new Promise<string>((res, rej) => {
      const timer = setTimeout(() => rej(new Error(`backend did not start:\n${log}`)), 20_000);
      child.stderr.on('data', (d: Buffer) => {
        log += d.toString();
        const listening = log.endsWith('\n') && lines().find((l) => l.msg === 'backend listening');
        if (listening) {
          clearTimeout(timer);
          res(listening.url as string);
        }
      });
      child.on('exit', (code) => rej(new Error(`backend exited ${code}:\n${log}`)));
    });
    expect(lines().find((l) => l.msg === 'execution provider')).toMatchObject({
      level: 'info',
      requested: 'auto',
      provider: expect.stringMatching(/^(cpu|cuda)$/),
    });
    const r = await fetch(`${url}/infer`, {
      method: 'POST',
      body: body() as Uint8Array<ArrayBuffer>,
      headers: { ...auth, 'content-type': WIRE_CONTENT_TYPE },
    });
    expect((await readResult(r)).status).toBe('done');
    const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    // The access line of the offload and the last line before exit made it out of pino's buffer.
    expect(lines().filter((l) => l.msg === 'request')).toMatchObject([
      { route: '/infer', status: 200, requestId: expect.any(String) },
    ]);
    expect(lines().at(-1)).toMatchObject({ msg: 'backend stopped' });
  });
});
