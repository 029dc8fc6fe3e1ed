// bench:hop's instant edge: a separate process that answers every POST with the edge's recorded answer (status,
// content type, body), at once. The client's work per offload is timed against it as well as against the live edge,
// because on this machine a process that sleeps through a ~10 ms round trip pays for waking up: the same
// undici request costs 0.25-0.32 ms of CPU when its answer comes at once and 0.57-0.67 ms when it comes 5-10 ms later
// (measured with a plain Node server that only delays). That cost belongs to the machine's idle states, not to the
// client's code, so the "full device speed" figure uses the instant answer; both are printed. The server runs in
// its own process so its CPU is not counted as the client's.

import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface RecordedAnswer {
  status: number;
  contentType: string;
  body: Uint8Array;
}

// Plain JavaScript for `node -e`: no TypeScript loader in the child, so its start-up and CPU stay small.
const SERVER = `
const http = require('node:http');
const a = JSON.parse(process.env.SPINN_REPLAY);
const body = Buffer.from(a.body, 'base64');
const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(a.status, { 'content-type': a.contentType, 'content-length': body.length });
    res.end(body);
  });
});
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
`;

/** Starts the instant edge; `url` takes the client's POSTs. */
export async function startReplayServer(answer: RecordedAnswer): Promise<{ url: string; stop(): void }> {
  const env = { ...process.env, SPINN_REPLAY: answerJson(answer) };
  const server = await spawnLoopbackServer(SERVER, env, 'replay server');
  return { url: `${server.origin}/v1/infer`, stop: server.stop };
}

/** A recorded answer as JSON (its body in base64), for a server process's environment; `extra` fields beside it. */
export function answerJson(answer: RecordedAnswer, extra: Record<string, unknown> = {}): string {
  const body = Buffer.from(answer.body).toString('base64');
  return JSON.stringify({ status: answer.status, contentType: answer.contentType, body, ...extra });
}

/**
 * Runs `script` (plain JavaScript that listens on a loopback port and prints the port as its first line) in a Node
 * process of its own, so its CPU is not this process's; resolves once it listens.
 */
export async function spawnLoopbackServer(
  script: string,
  env: NodeJS.ProcessEnv,
  what: string,
): Promise<{ origin: string; stop(): void }> {
  const child = spawn(process.execPath, ['-e', script], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`${what} exited (${code}) before listening`)));
  });
  return { origin: `http://127.0.0.1:${port}`, stop: () => void child.kill() };
}
