// Starts and drives the edge stand-in (edge-stub-server.ts) as a child process: `url` to point a client at,
// `configure` to change its behaviour between calls, `records` to see what it received, `close` to stop it.

import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { DEFAULT_CONTROL, type StubControl, type StubRecords } from './edge-stub-types.js';

export type { InferMode, StubControl, StubRecords } from './edge-stub-types.js';

export interface EdgeStub {
  url: string;
  configure(control: Partial<StubControl>): Promise<void>;
  /** Resets behaviour to DEFAULT_CONTROL (records are kept). */
  reset(): Promise<void>;
  records(): Promise<StubRecords>;
  close(): Promise<void>;
}

export async function startEdgeStub(): Promise<EdgeStub> {
  const script = fileURLToPath(new URL('./edge-stub-server.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const url = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.once('line', (line) => resolve((JSON.parse(line) as { url: string }).url));
    child.once('exit', (code) => reject(new Error(`edge stub exited with ${code}`)));
  });
  const configure = async (control: Partial<StubControl>) => {
    const res = await fetch(`${url}/_control`, { method: 'POST', body: JSON.stringify(control) });
    if (!res.ok) throw new Error(`edge stub control failed: ${res.status}`);
    await res.arrayBuffer();
  };
  return {
    url,
    configure,
    reset: () => configure(DEFAULT_CONTROL),
    records: async () => (await (await fetch(`${url}/_records`)).json()) as StubRecords,
    close: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
