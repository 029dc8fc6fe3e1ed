// bench:hop's A/B (`--ab <git ref>`): the edge worker of another commit, run by its own `wrangler dev` beside this
// one, so the old and the new critical path are timed in one interleaved run against the same backend. Only the
// ref's `worker/` is taken; `core/` (the wire messages, validation, codecs) is this tree's, so both edges speak the
// same protocol to the same backend and the comparison is of what the worker does around the backend call (for
// a ref before protocol 3: the Durable Object that makes the backend call itself), not of message shapes. The copy
// lives in bench/out/ (ignored by git) and reads this tree's built site (models' manifests) and node_modules.

import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { siteConfigWith } from '../../harness/stack.js';

const ROOT = new URL('../../', import.meta.url).pathname;
/** A `[build]` section of a wrangler.toml: dropped, this tree's edge built dist/site already. */
const BUILD_SECTION = /^\[build\]\n(?:[^[\n].*\n)*/m;

/** An older edge's wrangler configurations (repo-relative): its worker's, and its site Worker's when it has one. */
export interface OldWorker {
  config: string;
  /** From the commit that made the static site a Worker of its own (site/wrangler.toml); before it, [assets]. */
  siteConfig?: string;
}

/** Writes the worker of `ref` with this tree's core into bench/out/ and returns its wrangler configurations. */
export function materialiseWorker(ref: string): OldWorker {
  const sha = execFileSync('git', ['rev-parse', '--short', ref], { cwd: ROOT }).toString().trim();
  const dir = join(ROOT, 'bench/out', `worker-${sha}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const hasSite = execFileSync('git', ['ls-tree', '--name-only', sha, 'site/wrangler.toml'], { cwd: ROOT })
    .toString()
    .trim();
  const paths = ['worker', 'wrangler.toml', 'package.json', ...(hasSite ? ['site/wrangler.toml'] : [])];
  const tar = execFileSync('git', ['archive', '--format=tar', sha, ...paths], {
    cwd: ROOT,
    maxBuffer: 64 << 20,
  });
  execFileSync('tar', ['-x', '-C', dir], { input: tar });
  cpSync(join(ROOT, 'core'), join(dir, 'core'), { recursive: true });
  const toRoot = relative(dir, ROOT);
  const toml = readFileSync(join(dir, 'wrangler.toml'), 'utf8')
    .replace(/^name = "spinn-edge"$/m, `name = "spinn-edge-${sha}"`)
    // No site build here: this tree's edge built dist/site already (startStack runs first).
    .replace(BUILD_SECTION, '')
    .replace('"./node_modules/', `"${toRoot}/node_modules/`)
    .replace('directory = "./dist/site"', `directory = "${toRoot}/dist/site"`);
  writeFileSync(join(dir, 'wrangler.toml'), toml);
  const config = relative(ROOT, join(dir, 'wrangler.toml'));
  if (!hasSite) return { config };
  // Its own site Worker, serving this tree's built site: two edges in one run must not share one Worker name.
  const site = readFileSync(join(dir, 'site/wrangler.toml'), 'utf8').replace(BUILD_SECTION, ''); // the first had one
  writeFileSync(
    join(dir, 'site/wrangler.toml'),
    siteConfigWith(site, { directory: join(ROOT, 'dist/site'), name: `spinn-site-${sha}` }),
  );
  writeFileSync(
    join(dir, 'wrangler.toml'),
    toml.replace(/^service = "spinn-site"$/m, `service = "spinn-site-${sha}"`),
  );
  return { config, siteConfig: relative(ROOT, join(dir, 'site/wrangler.toml')) };
}
