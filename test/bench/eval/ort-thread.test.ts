// Device model 'nn' runs onnxruntime-web in a worker thread so that only the inference can be throttled: the
// thread must compute exactly what the in-thread runtime computes, name its own OS thread id (a task of this
// process, which cgroup v1 `tasks` accepts), and sessions shared between clients must survive a client's release.

import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sharedSessions } from '../../../bench/eval/ort-shared.js';
import { startThreadOrt, type ThreadOrt } from '../../../bench/eval/ort-thread.js';
import { loadOrtWebForNode } from '../../../client/node/ort-node.js';

const dir = new URL('../../../models/resnet56-fmnist/', import.meta.url).pathname;
const manifest = JSON.parse(readFileSync(`${dir}manifest.json`, 'utf8')) as {
  blocks: Array<{ file: string; inputs: Array<{ name: string }>; outputs: Array<{ name: string }> }>;
};
const block = manifest.blocks[0]!;
const bytes = () => new Uint8Array(readFileSync(`${dir}${block.file}`));
const input = new Float32Array(1024).map((_, i) => Math.sin(i));

describe('the inference thread of device model nn', () => {
  let thread: ThreadOrt;
  beforeAll(async () => {
    thread = await startThreadOrt();
  });
  afterAll(() => thread.close());

  it('computes what onnxruntime-web computes on the main thread', async () => {
    const s = await thread.ort.InferenceSession.create(bytes());
    const out = await s.run({
      [block.inputs[0]!.name]: new thread.ort.Tensor('float32', input, [1, 1, 32, 32]),
    });
    const ort = await loadOrtWebForNode();
    const ref = await (
      await ort.InferenceSession.create(bytes())
    ).run({ [block.inputs[0]!.name]: new ort.Tensor('float32', input, [1, 1, 32, 32]) });
    const a = out[block.outputs[0]!.name]!;
    const b = ref[block.outputs[0]!.name]!;
    expect(a.dims).toEqual(b.dims);
    expect(Array.from(a.data as Float32Array)).toEqual(Array.from(b.data as Float32Array));
  });

  it('names its own OS thread, a task of this process', () => {
    expect(Number.isInteger(thread.tid)).toBe(true);
    expect(thread.tid).not.toBe(process.pid);
    expect(existsSync(`/proc/${process.pid}/task/${thread.tid}`)).toBe(true);
  });

  it('shares one session per model file between clients; a client’s release keeps it', async () => {
    const shared = sharedSessions(thread.ort);
    const s1 = await shared.InferenceSession.create(bytes());
    await s1.release();
    const s2 = await shared.InferenceSession.create(bytes());
    expect(Object.getPrototypeOf(s2)).toBe(Object.getPrototypeOf(s1));
    const out = await s2.run({
      [block.inputs[0]!.name]: new thread.ort.Tensor('float32', input, [1, 1, 32, 32]),
    });
    expect(out[block.outputs[0]!.name]!.dims).toEqual([1, 16, 32, 32]);
  });
});
