// Why this file exists: the splitter end to end, as a library call (the CLI and the tests both use it):
// read and decode the model, partition it, probe shapes, write one ONNX file per block and per exit head,
// and write a validated manifest.json that points at them by relative path with sha256 and size.

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import {
  MANIFEST_FORMAT_VERSION,
  parseManifest,
  type BlockInfo,
  type ExitInfo,
  type ModelManifest,
  type SplitInfo,
} from '../../core/manifest.js';
import { partCost } from './cost.js';
import { buildPartModel, checkFloat, TensorTypes } from './emit.js';
import { SplitError } from './errors.js';
import { buildGraph } from './graph.js';
import type { ModelMeta } from './meta.js';
import { decodeModel, encodeModel } from './onnx-proto.js';
import { partition } from './partition.js';
import { probeShapes } from './probe.js';

export interface SplitOptions {
  meta?: ModelMeta;
  /** Op types whose outputs may be cut points (default: Relu, as in SPINN). */
  cutOps?: string[];
}

export interface SplitResult {
  manifest: ModelManifest;
  manifestPath: string;
  /** Things worth telling the user that do not stop the split. */
  warnings: string[];
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const posix = (p: string) => p.split(sep).join('/');
const pad2 = (i: number) => String(i).padStart(2, '0');

export async function splitModel(
  modelPath: string,
  outDir: string,
  opts: SplitOptions = {},
): Promise<SplitResult> {
  if (!existsSync(modelPath)) throw new SplitError(`model file not found: ${modelPath}`);
  const sourceBytes = readFileSync(modelPath);
  const source = decodeModel(sourceBytes, modelPath);
  const g = buildGraph(source.graph!);
  checkFloat(g);
  const parts = partition(g, opts.cutOps ? { cutOps: opts.cutOps } : {});
  const shapes = await probeShapes(source);
  const types = new TensorTypes(g, shapes);
  const warnings: string[] = [];
  if (parts.deadNodes.length)
    warnings.push(`${parts.deadNodes.length} node(s) reach no output and were dropped`);

  const meta = opts.meta ?? {};
  const id = meta.id ?? basename(resolve(outDir)).toLowerCase();
  if (!/^[a-z0-9][a-z0-9._-]{0,63}$/.test(id)) {
    throw new SplitError(
      `model id "${id}" is not valid (lowercase letters, digits, . _ -); pass one with --meta`,
    );
  }
  const finalExit = parts.exits[parts.exits.length - 1]!;
  const finalInfo = types.info(finalExit.output);
  const numClasses = finalInfo.shape[finalInfo.shape.length - 1]!;
  const classes = meta.classes ?? Array.from({ length: numClasses }, (_, i) => String(i));
  if (classes.length !== numClasses) {
    throw new SplitError(
      `meta lists ${classes.length} classes but the final output ${finalExit.output} has ${numClasses}`,
    );
  }

  // Start from clean blocks/ and exits/ so a re-split with fewer parts leaves no stale files behind.
  for (const sub of ['blocks', 'exits']) {
    const dir = join(outDir, sub);
    mkdirSync(dir, { recursive: true });
    for (const f of readdirSync(dir)) if (/^(block|exit)-\d+\.onnx$/.test(f)) rmSync(join(dir, f));
  }
  const graphName = source.graph!.name || id;
  const write = (rel: string, part: Parameters<typeof buildPartModel>[2], name: string) => {
    const { model, initializers } = buildPartModel(source, g, part, types, name);
    const bytes = encodeModel(model);
    writeFileSync(join(outDir, rel), bytes);
    return {
      file: rel,
      sha256: sha256(bytes),
      bytes: bytes.length,
      ...partCost(part.nodes, initializers, g, shapes),
    };
  };

  const blocks: BlockInfo[] = parts.blocks.map((b) => {
    const f = write(`blocks/block-${pad2(b.index)}.onnx`, b, `${graphName}-block-${pad2(b.index)}`);
    return { index: b.index, ...f, inputs: [types.info(b.input)], outputs: [types.info(b.output)] };
  });
  const heads = parts.exits.map((e) => ({
    e,
    f: write(`exits/exit-${e.index}.onnx`, e, `${graphName}-exit-${e.index}`),
  }));
  const blockMacsUpTo = (i: number) => blocks.slice(0, i + 1).reduce((s, b) => s + b.macs, 0);
  const total = blockMacsUpTo(blocks.length - 1) + heads[heads.length - 1]!.f.macs;
  const exits: ExitInfo[] = heads.map(({ e, f }) => ({
    index: e.index,
    afterBlock: e.afterBlock,
    ...f,
    input: types.info(e.input),
    output: types.info(e.output),
    macsFraction: total > 0 ? Math.min(1, (blockMacsUpTo(e.afterBlock) + f.macs) / total) : 0,
    final: e.final,
  }));
  // Split s: the device ran s blocks and sends the tensor block s reads (s = 0: the raw input, server-only).
  // s = N (device-only) sends nothing and is not listed.
  const splits: SplitInfo[] = blocks.map((b, s) => ({
    split: s,
    tensor: b.inputs[0]!,
    fp32Bytes: types.fp32Bytes(b.inputs[0]!.name),
  }));

  const manifestPath = join(outDir, 'manifest.json');
  const manifest: ModelManifest = parseManifest({
    formatVersion: MANIFEST_FORMAT_VERSION,
    id,
    ...(meta.description ? { description: meta.description } : {}),
    input: {
      ...types.info(g.input.name),
      ...(meta.preprocessing ? { preprocessing: meta.preprocessing } : {}),
    },
    classes,
    source: {
      file: posix(relative(resolve(outDir), resolve(modelPath))),
      sha256: sha256(sourceBytes),
      bytes: sourceBytes.length,
      outputs: g.outputs.map((o) => o.name),
    },
    blocks,
    exits,
    splits,
  });
  if (hadProfile(manifestPath)) {
    warnings.push(
      'the previous manifest had a profile; it was dropped (blocks may have changed): re-run the profiler',
    );
  }
  mkdirSync(dirname(manifestPath), { recursive: true });
  writeFileSync(manifestPath, await formatJson(manifest, manifestPath));
  return { manifest, manifestPath, warnings };
}

function hadProfile(path: string): boolean {
  try {
    return 'profile' in (JSON.parse(readFileSync(path, 'utf8')) as object);
  } catch {
    return false;
  }
}

/**
 * The manifest is committed and read by people in review: prettier puts short arrays (shapes) on one line, which
 * makes it a third as long as JSON.stringify's output. prettier is a dev dependency, so fall back to plain JSON.
 */
async function formatJson(value: unknown, path: string): Promise<string> {
  const text = JSON.stringify(value, null, 2) + '\n';
  try {
    const prettier = await import('prettier');
    const config = (await prettier.resolveConfig(path)) ?? {};
    return await prettier.format(text, { ...config, parser: 'json' });
  } catch {
    return text;
  }
}
