// What to hand to `new Worker` for a worker-thread module of ours. Compiled JS runs as is; from TypeScript sources
// (tsx, vitest) the worker needs a loader, and tsx registers its hooks only on the main thread, so a one-line ESM
// bootstrap registers tsx inside the worker before importing the module.

import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

export function workerEntry(module: URL): URL {
  if (!module.pathname.endsWith('.ts')) return module;
  const tsxDir = dirname(createRequire(import.meta.url).resolve('tsx/package.json'));
  const api = pathToFileURL(join(tsxDir, 'dist/esm/api/index.mjs')).href;
  const boot = `import { register } from ${JSON.stringify(api)}; register(); await import(${JSON.stringify(module.href)});`;
  return new URL(`data:text/javascript,${encodeURIComponent(boot)}`);
}
