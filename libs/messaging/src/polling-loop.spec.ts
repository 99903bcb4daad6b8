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
});
