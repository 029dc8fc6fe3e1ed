// bench:hop's A/B (`--ab <git ref>`): the edge worker of another commit, run by its own `wrangler dev` beside this
// one, so the old and the new critical path are timed in one interleaved run against the same backend. Only the
// ref's `worker/` is taken; `core/` (the wire messages, validation, codecs) is this tree's, so both edges speak the
// same protocol to the same backend and the comparison is of what the worker does around the backend call (for
// a ref before protocol 3: the Durable Object that makes the backend call itself), not of message shapes. The copy
// lives in bench/out/ (ignored by git) and reads this tree's built site (models' manifests) and node_modules.

import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const ROOT = new URL('../../', import.meta.url).pathname;

/** Writes the worker of `ref` with this tree's core into bench/out/ and returns its wrangler config (repo-relative). */
export function materialiseWorker(ref: string): string {
  const sha = execFileSync('git', ['rev-parse', '--short', ref], { cwd: ROOT }).toString().trim();
  const dir = join(ROOT, 'bench/out', `worker-${sha}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const tar = execFileSync(
    'git',
    ['archive', '--format=tar', sha, 'worker', 'wrangler.toml', 'package.json'],
    {
      cwd: ROOT,
      maxBuffer: 64 << 20,
    },
  );
  execFileSync('tar', ['-x', '-C', dir], { input: tar });
  cpSync(join(ROOT, 'core'), join(dir, 'core'), { recursive: true });
  const toRoot = relative(dir, ROOT);
  const toml = readFileSync(join(dir, 'wrangler.toml'), 'utf8')
    .replace(/^name = "spinn-edge"$/m, `name = "spinn-edge-${sha}"`)
    // No site build here: this tree's edge built dist/site already (startStack runs first).
    .replace(/^\[build\]\n(?:[^[\n].*\n)*/m, '')
    .replace('"./node_modules/', `"${toRoot}/node_modules/`)
    .replace('directory = "./dist/site"', `directory = "${toRoot}/dist/site"`);
  writeFileSync(join(dir, 'wrangler.toml'), toml);
  return relative(ROOT, join(dir, 'wrangler.toml'));
}
