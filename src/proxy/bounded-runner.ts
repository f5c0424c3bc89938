// Upstream's BoundedFrequencyRunner (pkg/util/async): run() asks for a sync;
// syncs happen at most once per minInterval (burst 1), and at least once per
// maxInterval even when nothing asks — kube-proxy's minSyncPeriod / syncPeriod.
export class BoundedFrequencyRunner {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private pending = false;
  private lastRun = 0;
  private stopped = false;

  constructor(
    private readonly fn: () => Promise<void>,
    private readonly minIntervalMs: number,
    private readonly maxIntervalMs: number,
  ) {}

  start(): void {
    this.schedule(0);
  }

  /** Request a sync as soon as the rate limit allows. */
  run(): void {
    if (this.stopped) return;
    if (this.running) {
      this.pending = true;
      return;
    }
    const wait = Math.max(0, this.lastRun + this.minIntervalMs - Date.now());
    this.schedule(wait);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private schedule(delay: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tick(), delay);
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    this.running = true;
    this.pending = false;
    this.lastRun = Date.now();
    try {
      await this.fn();
    } finally {
      this.running = false;
      if (this.stopped) return;
      if (this.pending) this.run();
      else this.schedule(this.maxIntervalMs);
    }
  }
}
