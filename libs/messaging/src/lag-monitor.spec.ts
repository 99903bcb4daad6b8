import { estimateWaitSeconds, type WatermarkSighting } from './lag-monitor';

const seen = (highWatermark: number, firstSeen: number, lastSeen = firstSeen): WatermarkSighting => ({
  highWatermark: BigInt(highWatermark),
  firstSeen,
  lastSeen,
});

describe('estimateWaitSeconds', () => {
  const history = [seen(10, 0, 30_000), seen(20, 60_000, 90_000), seen(40, 120_000)];

  it('given a group caught up with the last watermark, then nothing waits', () => {
    expect(estimateWaitSeconds(history, 40n, 150_000)).toBe(0);
  });

  it('given the next offset between two sightings, then its production time is interpolated between them', () => {
    // Offset 15 is half way from 10 (last seen at 30 s) to 20 (first seen at 60 s): produced at 45 s.
    expect(estimateWaitSeconds(history, 15n, 150_000)).toBe(105);
    // Offset 10 was produced after the last sighting of watermark 10.
    expect(estimateWaitSeconds(history, 10n, 150_000)).toBe(120);
    // Offset 30 lies between 20 (last seen at 90 s) and 40 (first seen at 120 s): 105 s.
    expect(estimateWaitSeconds(history, 30n, 150_000)).toBe(45);
  });

  it('given the next offset older than every sighting, then the wait is at least the oldest sighting’s age', () => {
    expect(estimateWaitSeconds(history, 3n, 150_000)).toBe(150);
  });
});
