// The packed client as a user gets it: `npm run pack:client` builds and packs @spinn-ts/client, then a fresh project
// in a temp folder installs the tarball with npm. Deterministic and offline: the tarball has no runtime
// dependencies (its code is bundled), and what a user would fetch from the registry beside it — the peer
// onnxruntime-web, zod (for the declarations' types), pngjs (the Node example's PNG decoder) — is installed from
// this repository's node_modules, the versions package-lock.json pins, by `npm install <folder>` (a link), with
// `--offline` so npm never reaches for the registry.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from './start-worker.js';

export interface PackedClient {
  /** The pack:client script's last line. */
  tarball: string;
  browserBundleGzipBytes: number;
  /** The fresh project the tarball is installed in. */
  dir: string;
  cleanup(): void;
}

/** The environment without npm's run-script variables, so the inner npm acts as if typed into a shell. */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith('npm_')));
}

function run(cmd: string, args: string[], cwd: string): string {
  const r = spawnSync(cmd, args, { cwd, env: cleanEnv(), encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0)
    throw new Error(`${cmd} ${args.join(' ')} failed (${r.status ?? r.signal}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** Runs `npm run pack:client` and installs the tarball, plus `links` from node_modules, into a new project. */
export function packAndInstall(links: string[]): PackedClient {
  const lines = run('npm', ['run', '--silent', 'pack:client'], REPO_ROOT).trim().split('\n');
  const last = JSON.parse(lines[lines.length - 1]!) as { tarball: string; browserBundleGzipBytes: number };
  const dir = mkdtempSync(join(tmpdir(), 'spinn-client-user-'));
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'spinn-client-user', private: true, type: 'module' }, null, 2),
  );
  run(
    'npm',
    [
      'install',
      last.tarball,
      ...links.map((name) => join(REPO_ROOT, 'node_modules', name)),
      '--offline',
      '--no-audit',
      '--no-fund',
      '--ignore-scripts',
      '--no-package-lock',
    ],
    dir,
  );
  return { ...last, dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
