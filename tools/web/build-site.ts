// `npm run build:web`: assembles dist/site/, the static-assets folder of the site Worker (site/wrangler.toml), from
//   - models/            → /<model-id>/… and /fashion-mnist-sample/… (models/.assetsignore honoured),
//   - the client library → /lib/spinn-client.js (ES module; onnxruntime-web imported lazily from ./ort/),
//   - onnxruntime-web    → /lib/ort/ (the wasm-only ES module, its wasm glue and the SIMD/threads .wasm),
//   - the demo page      → /index.html, /demo.css, /demo.js (imports /lib/spinn-client.js like any user would).
// `npm run worker:dev`, `npm run deploy:site`, the harness (harness/stack.ts) and the tests run it first, so the
// tests, the demo and deployments never see a stale site. It skips work when its inputs' hash matches the last build, builds into a
// temporary folder and swaps it in (parallel test workers may start wrangler at the same time), and refuses files
// over Cloudflare's 25 MiB per-asset limit.

import { build, type Plugin } from 'esbuild';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
export const SITE_DIR = join(ROOT, 'dist/site');
const PAGE_DIR = join(ROOT, 'demo/web');
const MODELS_DIR = join(ROOT, 'models');
const ORT_DIST = dirname(createRequire(import.meta.url).resolve('onnxruntime-web/wasm'));
/** onnxruntime-web files the wasm execution provider needs (the 26-28 MiB jsep/asyncify builds are not served). */
const ORT_FILES = ['ort.wasm.min.mjs', 'ort-wasm-simd-threaded.mjs', 'ort-wasm-simd-threaded.wasm'];
const MAX_ASSET_BYTES = 25 * 1024 * 1024;
const STAMP = '.build-hash';

function walk(dir: string, out: string[] = []): string[] {
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else out.push(p);
  }
  return out;
}

/** `.assetsignore` lines as predicates: `*.ext`, `name` (any depth) or `dir/` prefixes; `#` comments. */
function ignoreRules(file: string): Array<(rel: string) => boolean> {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((rule) => {
      if (rule.startsWith('*.')) return (rel: string) => rel.endsWith(rule.slice(1));
      if (rule.endsWith('/')) return (rel: string) => `/${rel}`.includes(`/${rule}`);
      return (rel: string) => rel === rule || rel.endsWith(`/${rule}`);
    });
}

function inputsHash(): string {
  const h = createHash('sha256');
  const files = [
    ...walk(PAGE_DIR),
    ...walk(join(ROOT, 'client')),
    ...walk(join(ROOT, 'core')),
    ...walk(MODELS_DIR),
    fileURLToPath(import.meta.url),
    ...ORT_FILES.map((f) => join(ORT_DIST, f)),
  ];
  for (const f of files) {
    const s = statSync(f);
    // Content for sources; size + mtime for the large model and wasm binaries (hashing 30 MB each run is waste).
    h.update(relative(ROOT, f)).update(s.size > 1_000_000 ? `${s.size}:${s.mtimeMs}` : readFileSync(f));
  }
  return h.digest('hex').slice(0, 16);
}

/** Rewrites imports of the client library (and onnxruntime-web inside it) to the served URLs. */
function servedImports(map: Record<string, string>): Plugin {
  return {
    name: 'served-imports',
    setup(b) {
      b.onResolve({ filter: /.*/ }, (args) => {
        for (const [suffix, url] of Object.entries(map)) {
          if (args.path === suffix || args.path.endsWith(suffix)) return { path: url, external: true };
        }
        return undefined;
      });
    },
  };
}

async function bundle(out: string): Promise<void> {
  const common = {
    bundle: true,
    format: 'esm' as const,
    platform: 'browser' as const,
    target: 'es2022',
    sourcemap: true,
    minify: true,
    legalComments: 'none' as const,
    logLevel: 'warning' as const,
  };
  // The library: onnxruntime-web stays a separate module, served beside it, so its proxy worker can load it.
  await build({
    ...common,
    entryPoints: [join(ROOT, 'client/index.ts')],
    outfile: join(out, 'lib/spinn-client.js'),
    plugins: [servedImports({ 'onnxruntime-web': './ort/ort.wasm.min.mjs' })],
  });
  // The page: the library is imported from its served URL, exactly as a user of the bundle would.
  await build({
    ...common,
    entryPoints: [join(PAGE_DIR, 'main.ts')],
    outfile: join(out, 'demo.js'),
    plugins: [servedImports({ '/client/index.js': './lib/spinn-client.js' })],
  });
}

export async function buildSite(opts: { force?: boolean; quiet?: boolean } = {}): Promise<string> {
  const hash = inputsHash();
  const stamp = join(SITE_DIR, STAMP);
  if (!opts.force && existsSync(stamp) && readFileSync(stamp, 'utf8') === hash) return SITE_DIR;
  const started = performance.now();
  const tmp = `${SITE_DIR}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });

  const ignored = ignoreRules(join(MODELS_DIR, '.assetsignore'));
  for (const f of walk(MODELS_DIR)) {
    const rel = relative(MODELS_DIR, f);
    if (rel === '.assetsignore' || ignored.some((skip) => skip(rel))) continue;
    mkdirSync(dirname(join(tmp, rel)), { recursive: true });
    copyFileSync(f, join(tmp, rel));
  }
  mkdirSync(join(tmp, 'lib/ort'), { recursive: true });
  for (const f of ORT_FILES) copyFileSync(join(ORT_DIST, f), join(tmp, 'lib/ort', f));
  for (const f of ['index.html', 'demo.css']) cpSync(join(PAGE_DIR, f), join(tmp, f));
  await bundle(tmp);
  // Never uploaded: the build stamp and source maps' absent sources.
  writeFileSync(join(tmp, '.assetsignore'), `${STAMP}\n`);

  const tooBig = walk(tmp).filter((f) => statSync(f).size > MAX_ASSET_BYTES);
  if (tooBig.length) {
    rmSync(tmp, { recursive: true, force: true });
    throw new Error(
      `assets over Cloudflare's 25 MiB limit: ${tooBig.map((f) => relative(tmp, f)).join(', ')}`,
    );
  }
  writeFileSync(join(tmp, STAMP), hash);

  // Swap in: the old folder disappears for an instant only; a parallel build of the same inputs is identical.
  const old = `${SITE_DIR}.old-${process.pid}`;
  if (existsSync(SITE_DIR)) renameSync(SITE_DIR, old);
  try {
    renameSync(tmp, SITE_DIR);
  } catch (e) {
    if (!existsSync(SITE_DIR)) throw e;
    rmSync(tmp, { recursive: true, force: true });
  }
  rmSync(old, { recursive: true, force: true });
  if (!opts.quiet) {
    const files = walk(SITE_DIR);
    const mb = files.reduce((s, f) => s + statSync(f).size, 0) / 1024 / 1024;
    console.log(
      `built ${relative(ROOT, SITE_DIR)}/ (${files.length} files, ${mb.toFixed(1)} MiB) in ${(performance.now() - started).toFixed(0)} ms`,
    );
  }
  return SITE_DIR;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await buildSite({ force: process.argv.includes('--force') });
}
