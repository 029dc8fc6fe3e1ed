// One version story (README, "Versions"): the package follows semver and its version is the last release in
// CHANGELOG.md; the OpenAPI document carries that version as info.version and names the wire protocol it speaks
// (info.x-spinn-protocol-version, and every msgpack schema's `v`), which is core's PROTOCOL_VERSION. The document is
// generated from the zod schemas (worker/openapi-document.ts); this reads it as the edge serves it.

import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION } from '../core/wire.js';
import { openApiDocument as generatedOpenApiDocument } from '../worker/openapi-document.js';

const REPO_ROOT = resolve(import.meta.dirname, '..');

interface OpenApiDocument {
  info: { version: string; 'x-spinn-protocol-version'?: unknown };
  [key: string]: unknown;
}

/** The API description the edge serves at GET /v1/openapi.json. */
function openApiDocument(): OpenApiDocument {
  return JSON.parse(JSON.stringify(generatedOpenApiDocument())) as OpenApiDocument;
}

const read = (path: string) => readFileSync(join(REPO_ROOT, path), 'utf8');
const pkg = JSON.parse(read('package.json')) as { version: string; license: string; workspaces?: string[] };

/** Every `"v": {"const": n}` in a JSON Schema tree: the protocol version a msgpack message schema pins. */
function versionConsts(node: unknown, found: unknown[] = []): unknown[] {
  if (Array.isArray(node)) node.forEach((n) => versionConsts(n, found));
  else if (node && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (key === 'v' && value && typeof value === 'object' && 'const' in value) found.push(value.const);
      versionConsts(value, found);
    }
  }
  return found;
}

describe('one version story', () => {
  it('the package version is semver and the latest release in CHANGELOG.md, under an Unreleased section', () => {
    expect(pkg.version).toMatch(/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/);
    const headings = [...read('CHANGELOG.md').matchAll(/^## \[([^\]]+)\]/gm)].map((m) => m[1]);
    expect(headings[0]).toBe('Unreleased');
    expect(headings[1]).toBe(pkg.version);
  });

  it('each release in the changelog names the wire protocol it speaks, the newest one named core’s', () => {
    const sections = read('CHANGELOG.md').split(/^## /m).slice(1);
    const releases = sections.slice(1);
    for (const release of releases) expect(release, release.split('\n')[0]).toMatch(/Wire protocol: \d+/);
    // Unreleased names the protocol when it changes it; otherwise the latest release speaks core's.
    const newest = sections.find((s) => /Wire protocol: \d+/.test(s))!;
    expect(newest).toMatch(new RegExp(`Wire protocol: ${PROTOCOL_VERSION}\\b`));
  });

  it('the OpenAPI document carries the package version and names core’s protocol version', () => {
    const doc = openApiDocument();
    expect(doc.info.version).toBe(pkg.version);
    expect(doc.info['x-spinn-protocol-version']).toBe(PROTOCOL_VERSION);
    const consts = versionConsts(doc);
    expect(consts.length).toBeGreaterThan(0);
    expect(new Set(consts)).toEqual(new Set([PROTOCOL_VERSION]));
  });

  it('workspace packages carry the root version and licence', () => {
    for (const dir of pkg.workspaces ?? []) {
      const file = join(REPO_ROOT, dir, 'package.json');
      if (!existsSync(file)) continue;
      const ws = JSON.parse(readFileSync(file, 'utf8')) as { version: string; license: string };
      expect(ws.version, dir).toBe(pkg.version);
      expect(ws.license, dir).toBe(pkg.license);
    }
    expect(pkg.license).toBe('Apache-2.0');
    expect(read('LICENSE')).toMatch(/Apache License\s+Version 2\.0, January 2004/);
  });
});
