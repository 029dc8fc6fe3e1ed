// Full stack, device wins, decided by gates rather than by speed: the backend's hold gate (started with
// --test-hooks) parks every job once it has run 2 blocks, and the device's continuation may not run its first block
// after the split until the backend reports that it holds the job. So the server cannot answer first, and the
// cancel always finds it parked, however fast or slow either process is. The client cancels through the edge, and
// the backend must stop exactly where it was held and say so. (This test used to throttle the backend to 5 % of a
// core and hope it was slower; on a busy machine it was not.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadOrtWebForNode } from '../../client/node/ort-node.js';
import { expectedAnswer, referenceLogits } from '../client/support/reference.js';
import { gatedOrt } from '../support/gated-ort.js';
import {
  backendHolds,
  backendRecord,
  holdBackend,
  manifest,
  newClient,
  releaseHold,
  samples,
  useStack,
} from './stack-fixture.js';

const SPLIT = 3;
const HELD_AFTER = 2;
// No timeout may decide the race either: the edge and the client wait far longer than any device run takes.
const { stack } = useStack({ workers: 1, testHooks: true }, { BACKEND_TIMEOUT_MS: '600000' });
beforeAll(() => holdBackend(stack(), HELD_AFTER));
afterAll(() => releaseHold(stack()));

describe('local-first through the real worker and backend', () => {
  it('cancels the server, which stops exactly where it was', async () => {
    let armed = false; // not during the client's load-time warm-up run, which runs every block
    const ort = gatedOrt(await loadOrtWebForNode({ numThreads: 1 }), manifest.blocks[SPLIT]!.sha256, () =>
      armed ? backendHolds(stack()) : Promise.resolve(),
    );
    const client = await newClient(stack().edge.url, { ort, offloadTimeoutMs: 600_000 });
    armed = true;
    const imgs = samples(3, 100);
    const logits = await referenceLogits(manifest, imgs);
    for (const [i, img] of imgs.entries()) {
      const r = await client.classify(img.pixels, { plan: { split: SPLIT, threshold: 1 } });
      expect(r.decidedBy).toBe('device-race');
      expect(r.cancelledServer).toBe(true);
      expect(r.label).toBe(expectedAnswer(logits[i]!, 1, manifest).label);
      await client.whenIdle(); // the DELETE has been answered

      const rec = await backendRecord(stack(), r.requestId);
      expect(rec, 'the backend saw the offload').not.toBeNull();
      console.log(
        `[local-first] #${i} device answered in ${r.timings.totalMs.toFixed(1)} ms; backend ${String(rec!.status)} after ${String(rec!.blocksRun)} blocks`,
      );
      expect(rec!.status, JSON.stringify(rec)).toBe('cancelled');
      expect(rec!.blocksRun).toBe(HELD_AFTER);
      expect(rec!.blocksRunAtCancel).toBe(HELD_AFTER);

      const edge = (await (
        await fetch(`${stack().edge.url}/v1/requests/${r.requestId}`, { headers: stack().edgeHeaders })
      ).json()) as Record<string, unknown>;
      expect(edge.status).toBe('cancelled');
    }
    await client.dispose();
  });
});
