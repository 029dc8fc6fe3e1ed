// The queue in front of the inference workers, and the dynamic batcher's one decision: what a free worker runs next.
// Requests wait in arrival order; a free worker takes up to `maxBatch` requests of one model, the model whose
// oldest request has waited longest, as soon as that many are queued or the oldest has waited `maxDelayMs`. With
// several workers free, a queue is shared out between them rather than given whole to the first. No timers or
// threads here: the pool asks, with the time, and gets a batch or the time to ask again.

import type { BatchLimits } from './batching.js';

export interface Queued {
  requestId: string;
  modelId: string;
  /** performance.now() when it was queued. */
  enqueuedAt: number;
}

export type TakeResult<T> = { batch: T[] } | { retryAt: number } | null;

export class BatchQueue<T extends Queued> {
  private items: T[] = [];

  get length(): number {
    return this.items.length;
  }

  push(item: T): void {
    this.items.push(item);
  }

  find(requestId: string): T | undefined {
    return this.items.find((i) => i.requestId === requestId);
  }

  /** Removes and returns the request (undefined when it is not queued). */
  remove(requestId: string): T | undefined {
    const at = this.items.findIndex((i) => i.requestId === requestId);
    return at < 0 ? undefined : this.items.splice(at, 1)[0];
  }

  /** Removes and returns everything queued. */
  drain(): T[] {
    return this.items.splice(0);
  }

  /**
   * The batch a free worker should run now, or when to ask again (a model is waiting for its batch to fill), or
   * null when nothing is queued. `freeWorkers` (≥ 1) workers are asking; each gets its share of a model's queue.
   */
  take(now: number, freeWorkers: number, limits: (modelId: string) => BatchLimits): TakeResult<T> {
    if (!this.items.length) return null;
    let retryAt = Infinity;
    const seen = new Set<string>();
    for (const oldest of this.items) {
      if (seen.has(oldest.modelId)) continue;
      seen.add(oldest.modelId);
      const { maxBatch, maxDelayMs } = limits(oldest.modelId);
      const mine = this.items.filter((i) => i.modelId === oldest.modelId);
      if (mine.length < maxBatch && now - oldest.enqueuedAt < maxDelayMs) {
        retryAt = Math.min(retryAt, oldest.enqueuedAt + maxDelayMs);
        continue;
      }
      const size = Math.min(maxBatch, Math.ceil(mine.length / Math.max(1, freeWorkers)));
      const batch = new Set(mine.slice(0, size));
      this.items = this.items.filter((i) => !batch.has(i));
      return { batch: [...batch] };
    }
    return { retryAt };
  }
}
