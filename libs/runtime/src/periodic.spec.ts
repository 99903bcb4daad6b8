import type { Logger } from 'pino';
import { runPeriodically } from './periodic';

const logger = () => {
  const warnings: string[] = [];
  return { warnings, logger: { warn: (_: unknown, msg: string) => warnings.push(msg) } as unknown as Logger };
};

describe('a periodic background task', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('given a run still going when the next is due, then that one is skipped', async () => {
    let started = 0;
    let finish!: () => void;
    const { logger: log } = logger();
    const stop = runPeriodically('sweep', 100, () => (started++, new Promise<void>((resolve) => (finish = resolve))), log);
    await jest.advanceTimersByTimeAsync(350);
    expect(started).toBe(1);
    finish();
    await jest.advanceTimersByTimeAsync(100);
    expect(started).toBe(2);
    stop();
    await jest.advanceTimersByTimeAsync(1_000);
    expect(started).toBe(2);
  });

  it('given a failing run, then it is logged by name and the next run goes on', async () => {
    let runs = 0;
    const { logger: log, warnings } = logger();
    const stop = runPeriodically('retention sweep', 100, async () => {
      runs++;
      throw new Error('database away');
    }, log);
    await jest.advanceTimersByTimeAsync(250);
    expect(runs).toBe(2);
    expect(warnings).toEqual(['retention sweep failed', 'retention sweep failed']);
    stop();
  });
});
