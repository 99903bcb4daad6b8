import { backoffDelay } from './errors';

export interface PollingLoopOptions {
  /** One pass over the due work; resolves `true` when more is likely waiting (run again at once). */
  pass: () => Promise<boolean>;
  /** Pause after a pass that found nothing more to do. */
  idleMs: number;
  /** Told about each failed pass; the loop then backs off (full jitter, up to 10 s) and goes on. */
  onError: (error: unknown, failures: number) => void;
}

/**
 * The loop behind every durable schedule (due webhooks, review deadlines): the due time is a row in
 * Postgres, so the schedule survives restarts and replicas share it; this only decides when to look.
 * `stop()` ends a pause at once and waits for the pass in flight, so its writes finish before the
 * database closes.
 */
export class PollingLoop {
  private running = false;
  private loop?: Promise<void>;
  private wake?: () => void;
  private poked = false;

  constructor(private readonly options: PollingLoopOptions) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** New work is there (a commit wrote it): end the pause now, or skip the next one if a pass is running. */
  poke(): void {
    this.poked = true;
    this.wake?.();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (this.running) {
      this.poked = false;
      try {
        const more = await this.options.pass();
        failures = 0;
        if (!more) await this.pause(this.options.idleMs);
      } catch (error) {
        failures++;
        this.options.onError(error, failures);
        await this.pause(backoffDelay(failures, 250, 10_000));
      }
    }
  }

  private pause(ms: number): Promise<void> {
    if (this.poked || !this.running) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }
}
