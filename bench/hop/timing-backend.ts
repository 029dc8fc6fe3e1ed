// bench:phases' backend: a separate process that answers every POST /infer with a real backend's recorded answer
// after a fixed delay (standing in for the compute), and records, with the machine's clock at microsecond
// resolution, when each request's body had arrived and when its answer was written. With the client's own send and
// receive times (same clock, same machine) that splits a hop's latency into the part before the backend has the
// offload and the part after it answered. GET /times hands over (and clears) what was recorded; any other GET is a
// healthy /health. Plain JavaScript for `node -e`, so the process stays small.

import { answerJson, spawnLoopbackServer, type RecordedAnswer } from './replay-server.js';

const SERVER = `
const http = require('node:http');
const a = JSON.parse(process.env.SPINN_TIMED);
const body = Buffer.from(a.body, 'base64');
const times = [];
const now = () => performance.timeOrigin + performance.now();
const server = http.createServer((req, res) => {
  if (req.method === 'GET') {
    res.setHeader('content-type', 'application/json');
    if (req.url === '/times') return res.end(JSON.stringify(times.splice(0)));
    return res.end(JSON.stringify({ status: 'ok', busy: 0, queued: 0, workers: 1 }));
  }
  req.resume();
  req.on('end', () => {
    const received = now();
    setTimeout(() => {
      res.writeHead(a.status, { 'content-type': a.contentType, 'content-length': body.length });
      const answered = now();
      res.end(body);
      times.push([received, answered]);
    }, a.delayMs);
  });
});
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
`;

export interface TimingBackend {
  url: string;
  /** [body received, answer written] per request since the last call, epoch ms with microseconds. */
  takeTimes(): Promise<[number, number][]>;
  stop(): void;
}

export async function startTimingBackend(answer: RecordedAnswer, delayMs: number): Promise<TimingBackend> {
  const env = { ...process.env, SPINN_TIMED: answerJson(answer, { delayMs }) };
  const server = await spawnLoopbackServer(SERVER, env, 'timing backend');
  const url = server.origin;
  return {
    url,
    takeTimes: async () => (await (await fetch(`${url}/times`)).json()) as [number, number][],
    stop: server.stop,
  };
}
