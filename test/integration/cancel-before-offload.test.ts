// Full stack: a cancel that reaches the edge before its offload wins — the offload is answered `cancelled` and the
// backend, told by the cancel first, computes nothing for it — and cancelling again changes nothing.
import { describe, expect, it } from 'vitest';
import { decodeResult, WIRE_CONTENT_TYPE } from '../../core/wire.js';
import { DeviceSide, newRequestId, offloadBody } from '../gpu-backend/helpers.js';
import { backendHeaders, samples, useStack } from './stack-fixture.js';
import { preprocessGray } from '../../core/preprocess.js';
import { manifest } from './stack-fixture.js';

const { stack } = useStack();

describe('cancel before offload', () => {
  it('the cancel wins, is idempotent, and the backend never computes', async () => {
    const id = newRequestId('early');
    const del = () =>
      fetch(`${stack().edge.url}/v1/requests/${id}`, { method: 'DELETE', headers: stack().edgeHeaders });
    const first = await del();
    expect(first.status).toBe(200);
    const firstBody = (await first.json()) as Record<string, unknown>;
    expect(firstBody.cancelledBeforeOffload).toBe(true);

    const device = await DeviceSide.load();
    const img = preprocessGray(samples(1)[0]!.pixels, manifest.input);
    const act = await device.activation(img, 5);
    const res = await fetch(`${stack().edge.url}/v1/infer`, {
      method: 'POST',
      headers: { 'content-type': WIRE_CONTENT_TYPE, ...stack().edgeHeaders },
      body: offloadBody({ requestId: id, split: 5, threshold: 0.9, ...act }) as Uint8Array<ArrayBuffer>,
    });
    expect(res.status).toBe(200);
    const result = decodeResult(new Uint8Array(await res.arrayBuffer()));
    expect(result.status).toBe('cancelled');
    expect(result.blocksRun).toBe(0);

    const again = await del();
    expect(again.status).toBe(200);
    expect(((await again.json()) as Record<string, unknown>).status).toBe('cancelled');
    // The edge sent the offload to the backend beside its claim; the cancel had told the backend first, so whether
    // the offload reached it (a record: cancelled before arrival, no block run) or was aborted on the way (no
    // record, the cancel remembered), the backend computed nothing.
    const rec = await fetch(`${stack().backend.url}/requests/${id}`, { headers: backendHeaders(stack()) });
    const body = (await rec.json()) as Record<string, unknown>;
    if (rec.status === 200) {
      expect(body).toMatchObject({ cancelState: 'cancelled-before-arrival', blocksRun: 0, serverMs: 0 });
    } else {
      expect(rec.status).toBe(404);
      expect(body.error).toMatch(/a cancel for it is remembered/);
    }
  });
});
