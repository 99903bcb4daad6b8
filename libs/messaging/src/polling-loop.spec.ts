import { waitFor } from '@troupe/testing';
import { PollingLoop } from './polling-loop';

describe('PollingLoop', () => {
  it('given passes that find work, fail once and then find none, when running, then it repeats at once, survives the failure, and stop waits for the pass in flight', async () => {
    const script = [true, true, 'fail', false] as const;
    const seen: string[] = [];
    const errors: number[] = [];
    let finishedAfterStop = false;
    let step = 0;
    const loop = new PollingLoop({
      pass: async () => {
        const next = script[step++] ?? false;
        seen.push(String(next));
        if (next === 'fail') throw new Error('database away');
        if (step > script.length) {
          await new Promise((resolve) => setImmediate(resolve));
          finishedAfterStop = true;
        }
        return next;
      },
      idleMs: 5,
      onError: (_error, failures) => errors.push(failures),
    });
    loop.start();
    await waitFor(() => seen.length > script.length, { timeoutMs: 15_000, description: 'the loop to poll again when idle' });
    await loop.stop();
    expect(seen.slice(0, 4)).toEqual(['true', 'true', 'fail', 'false']);
    expect(errors).toEqual([1]);
    expect(finishedAfterStop).toBe(true); // stop() returned only after the pass in flight finished
  });

  it('given a long idle pause, when poked, then the next pass runs at once, and a poke during a pass skips the pause', async () => {
    let passes = 0;
    const loop: PollingLoop = new PollingLoop({
      pass: async () => {
        passes++;
        if (passes === 2) loop.poke(); // new work arrived while this pass ran
        return false;
      },
      idleMs: 60_000,
      onError: () => undefined,
    });
    loop.start();
    await waitFor(() => passes === 1, { description: 'the first pass' });
    loop.poke();
    // Without the pokes the loop would sleep for a minute after each pass.
    await waitFor(() => passes === 3, { timeoutMs: 5_000, description: 'a pass after each poke' });
    await loop.stop();
  });
});
