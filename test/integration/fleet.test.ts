// Three real backends behind the real worker (wrangler dev, BACKENDS): offloads spread by load, a cancel reaches the
// backend that holds its request, and one backend killed with SIGKILL under load and later restarted on its port.
// Every phase ends on an event (answers counted, a job parked by the backend's hold gate, a record naming a backend),
// never on a sleep (the load senders are paced below the edge's rate limit, which decides nothing). Asserted: every request answered exactly once, `done`, with the original model's answer; the
// requests the killed backend held when it died were sent once to another backend and answered there; nothing is
// sent to it while it is dead; traffic returns to it after the restart; and no live backend ran a request that
// another one answered.

import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WIRE_CONTENT_TYPE, decodeResult, type ResultMessage } from '../../core/wire.js';
import { startBackend, startStack, type Service, type Stack } from '../../harness/stack.js';
import { knownOffloads, type KnownOffload } from '../hostile/support/valid-offloads.js';

const SENDERS = 3;
/** Shortest turn of a load sender: 3 senders × 2 keyed requests per 150 ms = 40 per second, under the rate limit. */
const SENDER_TURN_MS = 150;
const BACKENDS = 3;
const VICTIM = 1;
const name = (i: number) => `backend-${i}`;

let stack: Stack;
let known: KnownOffload[];

beforeAll(async () => {
  stack = await startStack({
    backendCount: BACKENDS,
    backend: { workers: 1, threads: 1, testHooks: true },
    // Far beyond anything this busy machine takes: no request may fail by timing out.
    edgeVars: { BACKEND_TIMEOUT_MS: '60000' },
  });
  known = await knownOffloads(4, [0, 5, 13], 400);
}, 240_000);

afterAll(async () => {
  await stack?.stop();
}, 60_000);

const auth = (s: Service) => ({ authorization: `Bearer ${stack.token}` });

async function held(s: Service): Promise<string[]> {
  const r = await fetch(`${s.url}/test/hold`, { headers: auth(s) });
  return ((await r.json()) as { held: string[] }).held;
}

async function setHold(s: Service, afterBlocks: number | null): Promise<void> {
  const r = await fetch(`${s.url}/test/hold`, {
    method: afterBlocks === null ? 'DELETE' : 'POST',
    headers: { ...auth(s), 'content-type': 'application/json' },
    ...(afterBlocks === null ? {} : { body: JSON.stringify({ afterBlocks }) }),
  });
  if (!r.ok) throw new Error(`hold: HTTP ${r.status}`);
}

/** Polls state the test (or a backend's hold gate) updates until `cond` holds: an event, not a delay. */
async function until(
  cond: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 120_000,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function offload(
  requestId: string,
  k: KnownOffload,
): Promise<{ status: number; result?: ResultMessage; error?: string }> {
  const res = await fetch(`${stack.edge.url}/v1/infer`, {
    method: 'POST',
    headers: { 'content-type': WIRE_CONTENT_TYPE, ...stack.edgeHeaders },
    body: k.body(requestId) as BodyInit,
    signal: AbortSignal.timeout(120_000),
  });
  const bytes = new Uint8Array(await res.arrayBuffer());
  if ((res.headers.get('content-type') ?? '').startsWith(WIRE_CONTENT_TYPE))
    return { status: res.status, result: decodeResult(bytes) };
  return { status: res.status, error: new TextDecoder().decode(bytes.subarray(0, 300)) };
}

async function edgeRecord(requestId: string): Promise<{ status: string; backend: string | null }> {
  const r = await fetch(`${stack.edge.url}/v1/requests/${requestId}`, { headers: stack.edgeHeaders });
  return (await r.json()) as { status: string; backend: string | null };
}

async function backendRecord(
  s: Service,
  requestId: string,
): Promise<{ status: string; cancelState?: string } | null> {
  const r = await fetch(`${s.url}/requests/${requestId}`, { headers: auth(s) });
  return r.status === 404 ? null : ((await r.json()) as { status: string; cancelState?: string });
}

describe('a fleet of three backends', () => {
  it('spreads requests by load, and a cancel reaches the backend that holds the request', async () => {
    for (const b of stack.backends) await setHold(b, 1);
    const pending: Promise<unknown>[] = [];
    const holder = new Map<string, number>();
    for (let i = 0; i < BACKENDS; i++) {
      const id = `fleet-cancel-${i}`;
      pending.push(offload(id, known[1]!));
      // Parked after one block on whichever backend took it; the next goes to a backend with nothing in flight.
      await until(async () => {
        for (const [b, s] of stack.backends.entries()) if ((await held(s)).includes(id)) holder.set(id, b);
        return holder.has(id);
      }, `${id} held by a backend`);
    }
    expect(new Set(holder.values()).size).toBe(BACKENDS);
    for (const [id, b] of holder) {
      expect((await edgeRecord(id)).backend).toBe(name(b));
      const res = await fetch(`${stack.edge.url}/v1/requests/${id}`, {
        method: 'DELETE',
        headers: stack.edgeHeaders,
      });
      const reply = (await res.json()) as { status: string; backend: { ok: boolean; httpStatus: number } };
      expect(reply).toMatchObject({ status: 'cancelled', backend: { ok: true, httpStatus: 200 } });
      await until(
        async () => (await backendRecord(stack.backends[b]!, id))?.status === 'cancelled',
        `${id} cancelled on ${name(b)}`,
      );
    }
    const answers = (await Promise.all(pending)) as { status: number; result?: ResultMessage }[];
    for (const a of answers) expect(a).toMatchObject({ status: 200, result: { status: 'cancelled' } });
    for (const b of stack.backends) await setHold(b, null);
  });

  it('SIGKILL of one backend under load: every request answered once and right, none sent to it while dead, traffic returns after restart', async () => {
    interface Answer {
      requestId: string;
      sentAt: number; // index in the send sequence
      status: number;
      result?: ResultMessage;
      error?: string;
      expected: KnownOffload;
      backend: string | null;
    }
    const answers: Answer[] = [];
    let seq = 0;
    let running = true;
    const sender = async (s: number) => {
      while (running) {
        // Paced: the edge's per-key rate limit (wrangler.toml, 600 per 10 s) must never bind here, and an unpaced loop
        // (an offload and a record read per turn) passed it once the edge answered in a few ms.
        const pace = sleep(SENDER_TURN_MS);
        const n = seq++;
        const k = known[n % known.length]!;
        const requestId = `fleet-${s}-${n}`;
        const a = await offload(requestId, k).catch((e: unknown) => ({ status: -1, error: String(e) }));
        const record = await edgeRecord(requestId);
        answers.push({ requestId, sentAt: n, expected: k, backend: record.backend, ...a });
        await pace;
      }
    };
    const servedBy = (b: number, from = 0) =>
      answers.filter((a) => a.sentAt >= from && a.backend === name(b)).length;
    const load = Array.from({ length: SENDERS }, (_, s) => sender(s));

    // 1. Every backend takes traffic.
    await until(() => stack.backends.every((_, b) => servedBy(b) >= 3), 'every backend serving');

    // 2. The victim parks what it runs; once it holds a request, it is killed with it.
    await setHold(stack.backends[VICTIM]!, 1);
    let heldAtKill: string[] = [];
    await until(
      async () => (heldAtKill = await held(stack.backends[VICTIM]!)).length > 0,
      'the victim holding a request',
    );
    const victim = stack.backends[VICTIM]!;
    process.kill(-victim.pid, 'SIGKILL');
    const killedAt = seq;

    // 3. While it is dead: the requests it held are answered elsewhere, and nothing new goes to it.
    await until(() => answers.filter((a) => a.sentAt >= killedAt).length >= 30, '30 answers after the kill');
    await victim.stop(); // reap the group (already dead)
    expect(servedBy(VICTIM, killedAt)).toBe(0);

    // 4. Restarted on the same port: a probe readmits it and traffic returns.
    const port = Number(new URL(victim.url).port);
    stack.backends[VICTIM] = await startBackend({
      port,
      token: stack.token,
      workers: 1,
      threads: 1,
      testHooks: true,
    });
    const restartedAt = seq;
    await until(() => servedBy(VICTIM, restartedAt) >= 3, 'traffic back on the restarted backend');
    running = false;
    await Promise.all(load);

    // Exactly one answer per request id, each `done` with the original model's answer.
    expect(new Set(answers.map((a) => a.requestId)).size).toBe(answers.length);
    const wrong = answers.filter(
      (a) =>
        a.status !== 200 ||
        a.result?.status !== 'done' ||
        a.result.label !== a.expected.label ||
        a.result.exit !== a.expected.exit,
    );
    expect(
      wrong.map((a) => ({ id: a.requestId, status: a.status, error: a.result?.error ?? a.error })),
    ).toEqual([]);
    // What the victim held when it died was sent once to another backend and answered there.
    for (const id of heldAtKill) {
      const a = answers.find((x) => x.requestId === id)!;
      expect(a.backend, id).not.toBe(name(VICTIM));
      expect(a.result?.status, id).toBe('done');
    }
    // No live backend ran a request another one answered (the dead one's memory died with it).
    for (const a of answers) {
      const runners: string[] = [];
      for (const [b, s] of stack.backends.entries())
        if ((await backendRecord(s, a.requestId))?.status === 'done') runners.push(name(b));
      const answeredByDeadVictim = a.backend === name(VICTIM) && a.sentAt < killedAt;
      expect(runners, a.requestId).toEqual(answeredByDeadVictim ? [] : [a.backend]);
    }
    const phase = (from: number, to: number) =>
      stack.backends.map(
        (_, b) => answers.filter((a) => a.sentAt >= from && a.sentAt < to && a.backend === name(b)).length,
      );
    console.log(
      `[fleet] ${answers.length} requests, 0 lost, 0 duplicated, 0 wrong; served per backend before the kill ` +
        `${phase(0, killedAt).join('/')}, while ${name(VICTIM)} was dead ${phase(killedAt, restartedAt).join('/')}, ` +
        `after its restart ${phase(restartedAt, Infinity).join('/')}; ${heldAtKill.length} held by it at the kill, ` +
        `answered by ${heldAtKill.map((id) => answers.find((x) => x.requestId === id)!.backend).join(', ')}`,
    );
    const health = (await (await fetch(`${stack.edge.url}/healthz`)).json()) as {
      status: string;
      backends: { name: string; reachable: boolean; routing: { inRotation: boolean } }[];
    };
    expect(health.status).toBe('ok');
    expect(health.backends.map((b) => [b.name, b.reachable, b.routing.inRotation])).toEqual(
      stack.backends.map((_, b) => [name(b), true, true]),
    );
  });
});
