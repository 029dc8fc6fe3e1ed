// A tiny, valid model artifact written to a temp folder, so worker tests do not depend on the real
// models/resnet56-fmnist (which the splitter regenerates). Two blocks, two exits, splits 0..2, fake ONNX bytes
// with their true sha256 so the file route's ETag and size checks are real.

import { createHash } from 'node:crypto';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseManifest, type ModelManifest } from '../../core/manifest.js';

export const FIXTURE_MODEL_ID = 'tiny-test';

export interface FixtureAssets {
  /** Folder to use as the worker's assets directory. */
  dir: string;
  manifest: ModelManifest;
  /** File path (relative to the manifest) → bytes. */
  files: Map<string, Uint8Array>;
}

const t = (name: string, shape: number[]) => ({ name, shape, dtype: 'float32' as const });

export function writeFixtureAssets(): FixtureAssets {
  const dir = mkdtempSync(join(tmpdir(), 'spinn-assets-'));
  const modelDir = join(dir, FIXTURE_MODEL_ID);
  const files = new Map<string, Uint8Array>();
  const ref = (file: string, size: number) => {
    const bytes = new Uint8Array(size).map((_, i) => (i * 31 + file.length) & 0xff);
    files.set(file, bytes);
    return { file, sha256: createHash('sha256').update(bytes).digest('hex'), bytes: size };
  };
  const manifest = parseManifest({
    formatVersion: 1,
    id: FIXTURE_MODEL_ID,
    input: t('input', [-1, 1, 4, 4]),
    classes: ['a', 'b', 'c'],
    blocks: [
      {
        index: 0,
        ...ref('blocks/block-00.onnx', 1000),
        inputs: [t('input', [-1, 1, 4, 4])],
        outputs: [t('b0', [-1, 2, 4, 4])],
        macs: 100,
        params: 10,
      },
      {
        index: 1,
        ...ref('blocks/block-01.onnx', 2000),
        inputs: [t('b0', [-1, 2, 4, 4])],
        outputs: [t('b1', [-1, 4, 2, 2])],
        macs: 200,
        params: 20,
      },
    ],
    exits: [
      {
        index: 0,
        afterBlock: 0,
        ...ref('exits/exit-0.onnx', 300),
        input: t('b0', [-1, 2, 4, 4]),
        output: t('e0', [-1, 3]),
        macs: 10,
        params: 5,
        macsFraction: 0.34,
        final: false,
      },
      {
        index: 1,
        afterBlock: 1,
        ...ref('exits/exit-1.onnx', 400),
        input: t('b1', [-1, 4, 2, 2]),
        output: t('e1', [-1, 3]),
        macs: 10,
        params: 5,
        macsFraction: 1,
        final: true,
      },
    ],
    splits: [
      { split: 0, tensor: t('input', [-1, 1, 4, 4]), fp32Bytes: 64 },
      { split: 1, tensor: t('b0', [-1, 2, 4, 4]), fp32Bytes: 128 },
      { split: 2, tensor: t('b1', [-1, 4, 2, 2]), fp32Bytes: 64 },
    ],
  });
  for (const [file, bytes] of files) {
    mkdirSync(join(modelDir, file, '..'), { recursive: true });
    writeFileSync(join(modelDir, file), bytes);
  }
  writeFileSync(join(modelDir, 'manifest.json'), JSON.stringify(manifest, null, 2));
  // Something in the assets folder that is not in the manifest: the files route must not serve it.
  writeFileSync(join(modelDir, 'secret.txt'), 'not listed');
  return { dir, manifest, files };
}
