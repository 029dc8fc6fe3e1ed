// @spinn-ts/client as a user installs it: `npm run pack:client` packs it, a fresh project installs the tarball
// (test/support/packed-client.ts says how, offline), and then, from that project only: the package holds what its
// `files` say, its exports resolve for Node and for browsers, its declarations type-check a user's code (and are
// not `any`), the browser bundle keeps its size budget, and examples/node/classify.mjs classifies the example image
// on the device alone and through the real edge (workerd) and backend (onnxruntime-node).

import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type Service } from '../../harness/stack.js';
import { BROWSER_BUDGET_GZIP_BYTES } from '../../tools/pack/pack-client.js';
import { packAndInstall, type PackedClient } from '../support/packed-client.js';
import { REPO_ROOT, startWorker, type RunningWorker } from '../support/start-worker.js';

const TOKEN = 'package-test-token';
const IMAGE = join(REPO_ROOT, 'examples/images/ankle-boot.png');
const ANKLE_BOOT = 9; // the image's Fashion-MNIST label (test image 0), which the model gets right

let user: PackedClient;
let pkgDir: string;

beforeAll(() => {
  user = packAndInstall(['onnxruntime-web', 'zod', 'pngjs']);
  pkgDir = join(user.dir, 'node_modules/@spinn-ts/client');
  copyFileSync(join(REPO_ROOT, 'examples/node/classify.mjs'), join(user.dir, 'classify.mjs'));
}, 180_000);
afterAll(() => user?.cleanup());

/** Runs a command in the user's project; returns its stdout, failing with its output otherwise. */
function inProject(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { cwd: user.dir, encoding: 'utf8', timeout: 120_000 });
  expect(r.status, `${cmd} ${args.join(' ')}\n${r.stdout}\n${r.stderr}`).toBe(0);
  return r.stdout;
}

function classify(...args: string[]): Record<string, unknown> {
  const lines = inProject(process.execPath, ['classify.mjs', IMAGE, ...args])
    .trim()
    .split('\n');
  return JSON.parse(lines[lines.length - 1]!) as Record<string, unknown>;
}

describe('the packed client, installed into a fresh project', () => {
  it('holds only its files, a licence, and no runtime dependency but its peer', () => {
    const manifest = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(manifest).toMatchObject({
      name: '@spinn-ts/client',
      license: 'Apache-2.0',
      type: 'module',
      sideEffects: false,
      peerDependencies: { 'onnxruntime-web': expect.any(String) },
      dependencies: { zod: expect.any(String) },
    });
    expect(readdirSync(pkgDir).sort()).toEqual(['LICENSE', 'NOTICE', 'README.md', 'dist', 'package.json']);
    expect(readFileSync(join(pkgDir, 'LICENSE'), 'utf8')).toMatch(/Apache License\s+Version 2\.0/);
    const notices = readFileSync(join(pkgDir, 'dist/THIRD-PARTY-LICENSES.txt'), 'utf8');
    for (const bundled of ['fflate@', 'msgpackr@', 'zod@']) expect(notices).toContain(bundled);
    // Bundled code imports nothing but its peer (and Node built-ins in the Node build).
    for (const file of ['dist/index.js', 'dist/node.js']) {
      const code = readFileSync(join(pkgDir, file), 'utf8');
      const bare = [
        ...code.matchAll(/\bimport\s*\(?\s*["']([^"'./][^"']*)["']|from\s*["']([^"'./][^"']*)["']/g),
      ]
        .map((m) => m[1] ?? m[2])
        .filter((s) => !s!.startsWith('node:'));
      expect(new Set(bare), file).toEqual(new Set(['onnxruntime-web']));
    }
  });

  it('resolves to the Node build in Node and to the browser build for browser bundlers', async () => {
    const resolved = inProject(process.execPath, [
      '--input-type=module',
      '-e',
      "console.log(import.meta.resolve('@spinn-ts/client'))",
    ]);
    expect(resolved.trim()).toMatch(/node_modules\/@spinn-ts\/client\/dist\/node\.js$/);
    const bundled = await build({
      stdin: { contents: "export { SpinnClient } from '@spinn-ts/client';", resolveDir: user.dir },
      bundle: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      metafile: true,
      external: ['onnxruntime-web'],
    });
    const inputs = Object.keys(bundled.metafile.inputs);
    expect(inputs.some((p) => p.endsWith('@spinn-ts/client/dist/index.js'))).toBe(true);
    expect(inputs.some((p) => p.endsWith('dist/node.js'))).toBe(false);
  });

  it('keeps the browser bundle within its size budget', () => {
    console.log(
      `[package] dist/index.js: ${user.browserBundleGzipBytes} B gzipped (budget ${BROWSER_BUDGET_GZIP_BYTES})`,
    );
    expect(user.browserBundleGzipBytes).toBeGreaterThan(10_000); // the library really is in it
    expect(user.browserBundleGzipBytes).toBeLessThanOrEqual(BROWSER_BUDGET_GZIP_BYTES);
  });

  it('type-checks a user’s code against the generated declarations', () => {
    writeFileSync(
      join(user.dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          noEmit: true,
          skipLibCheck: false,
          types: [],
          lib: ['ES2022', 'DOM'],
        },
        files: ['use.ts'],
      }),
    );
    writeFileSync(
      join(user.dir, 'use.ts'),
      [
        "import { SpinnClient, loadOrtWebForNode, type ClassifyResult } from '@spinn-ts/client';",
        "const client = new SpinnClient({ edgeUrl: 'https://edge', modelId: 'm', ort: await loadOrtWebForNode() });",
        'const r: ClassifyResult = await client.classify(new Uint8Array(784));',
        "const where: 'device' | 'server' | 'device-race' | 'device-fallback' = r.decidedBy;",
        'const label: number = r.label;',
        '// @ts-expect-error: the declarations are real types, not `any`',
        'const wrong: string = r.confidence;',
        '// @ts-expect-error: unknown option',
        "new SpinnClient({ edgeUrl: 'https://edge', modelId: 'm', noSuchOption: 1 });",
        'export { where, label, wrong };',
      ].join('\n'),
    );
    inProject(process.execPath, [join(REPO_ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json']);
  });

  it('examples/node classifies the example image on the device alone, with no request', () => {
    const r = classify('--model-dir', join(REPO_ROOT, 'models/resnet56-fmnist'));
    console.log(`[package] examples/node on-device: ${JSON.stringify(r)}`);
    expect(r).toMatchObject({
      label: ANKLE_BOOT,
      className: 'Ankle boot',
      decidedBy: 'device',
      bytesSent: 0,
    });
  });

  describe('through the real edge and backend', () => {
    let backend: Service;
    let worker: RunningWorker;
    beforeAll(async () => {
      backend = await startBackend({ token: TOKEN, workers: 1, threads: 1 });
      worker = await startWorker({ backendUrl: backend.url, backendToken: TOKEN });
    }, 120_000);
    afterAll(async () => {
      await worker?.stop();
      await backend?.stop();
    });

    it('examples/node offloads after the split and gets the right answer', async () => {
      // Threshold 1: no exit fires, so the activation after block 5 is always sent to the edge.
      const r = classify(
        '--edge',
        worker.url,
        '--key',
        worker.apiKeys[0]!,
        '--split',
        '5',
        '--threshold',
        '1',
      );
      console.log(`[package] examples/node via the edge: ${JSON.stringify(r)}`);
      expect(r).toMatchObject({ label: ANKLE_BOOT, className: 'Ankle boot', split: 5 });
      expect(r.bytesSent).toBeGreaterThan(0);
      // The edge saw this request (whichever side answered first: the device may race the server).
      const rec = await fetch(`${worker.url}/v1/requests/${String(r.requestId)}`, { headers: worker.auth });
      expect(rec.status).toBe(200);
      expect(existsSync(join(user.dir, 'node_modules/onnxruntime-web'))).toBe(true);
    });
  });
});
