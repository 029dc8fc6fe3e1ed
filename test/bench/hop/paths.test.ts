// bench:hop's request schedule: every path gets exactly its requests, in blocks of consecutive requests, each round
// visiting every path once in a shuffled order, and a seed always gives the same schedule (bench/hop/paths.ts says
// why blocks: each hop pays its own after-work). And its one request: API keys taken in turn, and an error answer
// reported as what it is (a rate limit's JSON 429 once read as a msgpack result with "56 trailing bytes").

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blockSchedule, send, type HopPath } from '../../../bench/hop/paths.js';
import {
  encodeMessage,
  PROTOCOL_VERSION,
  WIRE_CONTENT_TYPE,
  type ResultMessage,
} from '../../../core/wire.js';

/** Runs of equal consecutive entries: [path, length]. */
function runs(schedule: number[]): [number, number][] {
  const out: [number, number][] = [];
  for (const k of schedule) {
    const last = out.at(-1);
    if (last && last[0] === k) last[1]++;
    else out.push([k, 1]);
  }
  return out;
}

describe('blockSchedule', () => {
  it('gives every path exactly its requests, in blocks, each round visiting every path once', () => {
    const schedule = blockSchedule(4, 23, 5, 3);
    expect(schedule).toHaveLength(4 * 23);
    for (let k = 0; k < 4; k++) expect(schedule.filter((x) => x === k)).toHaveLength(23);
    // Rounds of 4 blocks: four of 5 requests per path, then one of 3.
    const rounds = Array.from({ length: 4 }, (_, r) => schedule.slice(r * 20, r * 20 + 20));
    for (const round of rounds) {
      expect(new Set(round).size).toBe(4);
      // A block may run into the next one only across a round's boundary, never inside a round.
      expect(runs(round).every(([, n]) => n === 5)).toBe(true);
    }
    expect(runs(schedule.slice(80)).map(([, n]) => n)).toEqual([3, 3, 3, 3]);
  });

  it('shuffles the order of the paths from round to round', () => {
    const schedule = blockSchedule(4, 100, 5, 7);
    const firsts = new Set(Array.from({ length: 20 }, (_, r) => schedule[r * 20]));
    expect(firsts.size).toBeGreaterThan(1);
  });

  it('is the same for the same seed and differs for another', () => {
    expect(blockSchedule(5, 50, 5, 11)).toEqual(blockSchedule(5, 50, 5, 11));
    expect(blockSchedule(5, 50, 5, 11)).not.toEqual(blockSchedule(5, 50, 5, 12));
  });
});

describe('send', () => {
  let server: Server;
  let url: string;
  const seen: string[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        seen.push(req.headers.authorization ?? '');
        if (req.headers.authorization === 'Bearer limited') {
          res.writeHead(429, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: 'rate limit of key limited reached; retry in 10 s' }));
          return;
        }
        res.writeHead(200, { 'content-type': WIRE_CONTENT_TYPE });
        const result: ResultMessage = {
          v: PROTOCOL_VERSION,
          status: 'done',
          exit: null,
          label: 1,
          confidence: 0.9,
          serverMs: 1,
          queueMs: 0,
          blocksRun: 2,
        };
        res.end(encodeMessage(result));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('takes the rotating headers in turn and reads a result', async () => {
    const keys = ['a', 'b', 'c'].map((k) => ({ authorization: `Bearer ${k}` }));
    const p: HopPath = { name: 'keys', url, headers: {}, rotate: keys };
    seen.length = 0;
    for (let i = 0; i < 5; i++) expect((await send(p, new Uint8Array([1]))).bytes).toBeGreaterThan(0);
    expect(seen).toEqual(['Bearer a', 'Bearer b', 'Bearer c', 'Bearer a', 'Bearer b']);
  });

  it('reports an error answer with its path, status and message', async () => {
    const p: HopPath = { name: 'edge', url, headers: { authorization: 'Bearer limited' } };
    await expect(send(p, new Uint8Array([1]))).rejects.toThrow(
      /^edge: HTTP 429 \(application\/json\): \{"error":"rate limit of key limited reached/,
    );
  });
});
