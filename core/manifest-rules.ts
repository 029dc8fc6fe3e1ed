// What the model manifest (core/manifest.ts) means beyond its zod schema: the cross-field rules a valid manifest
// also keeps, and the lookups every part does on one. Kept apart from the schema so the codec, the offload rules and
// the client's bundle can use them without pulling zod in (the client checks manifests with its zod/mini mirror,
// client/checks/manifest.ts, and these same rules).

import type { ExitInfo, ModelManifest, Preprocessing, SplitInfo } from './manifest.js';

/** Version of the manifest layout itself; bump on an incompatible change. */
export const MANIFEST_FORMAT_VERSION = 1;

/** Thrown for a manifest that does not match the contract; `issues` says which fields and why. */
export class ManifestError extends Error {
  override readonly name = 'ManifestError';
  constructor(
    message: string,
    readonly issues: string[] = [],
  ) {
    super(issues.length ? `${message}: ${issues.join('; ')}` : message);
  }
}

/**
 * The cross-field rules no schema states (indices, exit order, the final exit, split points, profile lengths,
 * preprocessing against the input shape), for a manifest that has the schema's shape.
 */
export function manifestProblems(m: ModelManifest): string[] {
  const problems: string[] = [];
  m.blocks.forEach((b, i) => b.index !== i && problems.push(`blocks[${i}].index is ${b.index}`));
  m.exits.forEach((e, i) => {
    if (e.index !== i) problems.push(`exits[${i}].index is ${e.index}`);
    if (e.afterBlock >= m.blocks.length) problems.push(`exits[${i}].afterBlock ${e.afterBlock} has no block`);
    if (i > 0 && e.afterBlock < m.exits[i - 1]!.afterBlock) problems.push(`exits[${i}] out of block order`);
  });
  const pre = m.input.preprocessing;
  if (pre) problems.push(...preprocessingProblems(pre, m.input.shape));
  const last = m.exits[m.exits.length - 1]!;
  if (!last.final || m.exits.some((e) => e.final && e !== last))
    problems.push('the last exit, and only it, must be final');
  m.splits.forEach(
    (s, i) => s.split > m.blocks.length && problems.push(`splits[${i}].split ${s.split} > blocks`),
  );
  if (m.profile) {
    for (const t of m.profile.thresholds) {
      if (t.exitFraction.length !== m.exits.length)
        problems.push(
          `profile threshold ${t.threshold}: ${t.exitFraction.length} fractions for ${m.exits.length} exits`,
        );
    }
    for (const l of m.profile.latency) {
      if (l.blockMs.length !== m.blocks.length || l.exitMs.length !== m.exits.length)
        problems.push(`profile latency for ${l.host}/${l.runtime}: wrong number of entries`);
    }
    for (const c of m.profile.codec?.entries ?? []) {
      if (!m.splits.some((x) => x.split === c.split))
        problems.push(`profile codec: no split point ${c.split}`);
      if (c.accuracyChangePpByThreshold.length !== m.profile.thresholds.length)
        problems.push(
          `profile codec split ${c.split}/${c.scheme}${c.bits}: one change per threshold expected`,
        );
    }
  }
  return problems;
}

/** What makes a preprocessing recipe disagree with the input shape [N, C, H, W] it must produce. */
function preprocessingProblems(pre: Preprocessing, shape: readonly number[]): string[] {
  if (shape.length !== 4)
    return [`input.preprocessing needs an image input [N, C, H, W], shape is [${shape.join(',')}]`];
  const [, c, h, w] = shape as [number, number, number, number];
  const out: string[] = [];
  if (c !== 1 && c !== 3) out.push(`input.preprocessing makes 1 or 3 channels, the input has ${c}`);
  for (const k of ['mean', 'std'] as const)
    if (pre[k].length !== 1 && pre[k].length !== c)
      out.push(`input.preprocessing.${k} needs 1 or ${c} values, has ${pre[k].length}`);
  const [ih, iw] = pre.resize ?? pre.sourceSize;
  if (ih + 2 * pre.padding !== h || iw + 2 * pre.padding !== w)
    out.push(
      `input.preprocessing makes ${ih + 2 * pre.padding}x${iw + 2 * pre.padding} images, the input is ${h}x${w}`,
    );
  return out;
}

/** Exits that hang after blocks the device runs when it runs `split` blocks. */
export function exitsBefore(manifest: ModelManifest, split: number): ExitInfo[] {
  return manifest.exits.filter((e) => e.afterBlock < split);
}

/**
 * Whether an offload at `split` carries the input image as uint8 pixels (codec scheme `u8`) rather than an
 * activation: at split 0 (server-only) of a model with a preprocessing recipe, a client sends what it has — the
 * image at model resolution, 1 byte per value — and the server normalises it (core/preprocess.ts).
 */
export function sendsPixels(manifest: ModelManifest, split: number): boolean {
  return split === 0 && manifest.input.preprocessing !== undefined;
}

/** The split entry for a split value; throws for values the model cannot be offloaded at. */
export function splitInfo(manifest: ModelManifest, split: number): SplitInfo {
  const s = manifest.splits.find((x) => x.split === split);
  if (!s) throw new ManifestError(`model ${manifest.id} has no split point ${split}`);
  return s;
}
