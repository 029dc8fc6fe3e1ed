// Remembers cancels that arrive before their request (the client's local exit can fire while the offload is still
// on the wire): a later /infer with that id answers `cancelled` at once without computing. Entries expire after a
// TTL and the map is bounded (oldest dropped first), so a flood of bogus cancels cannot grow memory.

export class CancelRegistry {
  // Map keeps insertion order: the first key is always the oldest entry.
  private readonly entries = new Map<string, number>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Records an early cancel; repeating it keeps the first expiry (idempotent). */
  remember(requestId: string): void {
    this.prune();
    if (this.entries.has(requestId)) return;
    while (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
    this.entries.set(requestId, this.now() + this.ttlMs);
  }

  /** Whether a live early cancel exists for the id. */
  has(requestId: string): boolean {
    const expires = this.entries.get(requestId);
    if (expires === undefined) return false;
    if (expires <= this.now()) {
      this.entries.delete(requestId);
      return false;
    }
    return true;
  }

  /** Removes and reports the early cancel for an arriving request. */
  take(requestId: string): boolean {
    const hit = this.has(requestId);
    if (hit) this.entries.delete(requestId);
    return hit;
  }

  get size(): number {
    this.prune();
    return this.entries.size;
  }

  private prune(): void {
    const t = this.now();
    for (const [id, expires] of this.entries) {
      if (expires > t) break; // same TTL for all, so entries expire in insertion order
      this.entries.delete(id);
    }
  }
}
