// Full stack, device wins: the backend is throttled for real (cgroup CPU quota, 5 % of a core) so it is still
// computing when the device's own continuation answers; the client cancels through the edge, and the backend must
// stop within one block and say so.
import { describe, expect, it } from 'vitest';
import { expectedAnswer, referenceLogits } from '../client/support/reference.js';
import { backendRecord, manifest, newClient, samples, useStack } from './stack-fixture.js';

const { stack } = useStack({ cpuFraction: 0.05, workers: 1 });

describe('local-first through the real worker and backend', () => {
  it('cancels the server, which stops within one block', async () => {
    const client = await newClient(stack().edge.url);
    const imgs = samples(3, 100);
    const logits = await referenceLogits(manifest, imgs);
    for (const [i, img] of imgs.entries()) {
      const plan = { split: 3, threshold: 1 };
      const r = await client.classify(img.pixels, { plan });
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
      const run = Number(rec!.blocksRun);
      expect(run).toBeLessThan(manifest.blocks.length - plan.split);
      if (rec!.blocksRunAtCancel !== null)
        expect(run - Number(rec!.blocksRunAtCancel)).toBeLessThanOrEqual(1);

      const edge = (await (
        await fetch(`${stack().edge.url}/v1/requests/${r.requestId}`, { headers: stack().edgeHeaders })
      ).json()) as Record<string, unknown>;
      expect(edge.status).toBe('cancelled');
    }
    await client.dispose();
  });
});
