// Watches whether the edge answers `GET /healthz` (every 5 s, 2 s timeout, and at once after a failed offload) and
// reports changes, so the page can say "edge offline: requests finish on this device".

export type EdgeState = 'unknown' | 'online' | 'offline';

export class EdgeHealth {
  state: EdgeState = 'unknown';
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly edgeUrl: string,
    private readonly onChange: (s: EdgeState, detail: string) => void,
    private readonly periodMs = 5000,
  ) {}

  start(): void {
    void this.check();
    this.timer ??= setInterval(() => void this.check(), this.periodMs);
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  async check(): Promise<EdgeState> {
    let next: EdgeState;
    let detail: string;
    try {
      const res = await fetch(`${this.edgeUrl}/healthz`, {
        signal: AbortSignal.timeout(2000),
        cache: 'no-store',
      });
      await res.arrayBuffer();
      next = res.ok ? 'online' : 'offline';
      detail = res.ok ? 'edge answers /healthz' : `edge answered HTTP ${res.status}`;
    } catch (e) {
      next = 'offline';
      detail = `edge unreachable (${(e as Error).name === 'TimeoutError' ? 'timeout' : 'network error'})`;
    }
    if (next !== this.state) {
      this.state = next;
      this.onChange(next, detail);
    }
    return next;
  }
}
