/**
 * Runs a step again and again: at once while it reports more work, otherwise after `intervalMs` or when woken.
 * A failing step is reported and tried again after the interval. `stop` lets the step in progress finish.
 */
export class BackgroundLoop {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private wakeRequested = false;

  constructor(
    private readonly step: () => Promise<boolean>,
    private readonly intervalMs: number,
    private readonly onError: (error: unknown) => void,
  ) {}

  start(): void {
    this.schedule(0);
  }

  /** Runs the step soon (new events, a replay) instead of at the end of the interval. */
  wake(): void {
    if (this.stopped) return;
    if (this.running) this.wakeRequested = true;
    else this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.run(), delayMs);
    this.timer.unref?.();
  }

  private async run(): Promise<void> {
    if (this.running || this.stopped) return;
    let more = false;
    this.running = (async () => {
      try {
        more = await this.step();
      } catch (error) {
        this.onError(error);
      }
    })();
    await this.running;
    this.running = undefined;
    const woken = this.wakeRequested;
    this.wakeRequested = false;
    this.schedule(more || woken ? 0 : this.intervalMs);
  }
}
