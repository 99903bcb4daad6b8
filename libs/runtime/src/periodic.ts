import type { Logger } from 'pino';

/**
 * Runs `task` every `intervalMs` in the background (sweeps, releases): the timer does not keep the
 * process alive, a run that is still going when the next is due makes that one skip (no pile-up on
 * a slow database), and a failure is logged as `<what> failed` and the next run tries again.
 * Returns the function that stops it.
 */
export function runPeriodically(what: string, intervalMs: number, task: () => Promise<unknown>, logger: Logger): () => void {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    task()
      .catch((err) => logger.warn({ err }, `${what} failed`))
      .finally(() => (running = false));
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
