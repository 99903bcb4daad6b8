import { periodEnd, periodStart } from './budget-period';
import { picoText, picoUsd, toPico } from './money';

describe('money in pico-dollars', () => {
  it('given numeric texts and model costs, then conversions are exact both ways', () => {
    expect(toPico('0.000022500000')).toBe(22_500_000n);
    expect(toPico('12.5')).toBe(12_500_000_000_000n);
    expect(toPico('-0.000000000001')).toBe(-1n);
    expect(toPico(0.0000045)).toBe(4_500_000n);
    expect(picoText(22_500_000n)).toBe('0.000022500000');
    expect(picoText(-1n)).toBe('-0.000000000001');
    expect(picoUsd(toPico('1234.000000000001'))).toBeCloseTo(1234, 9);
    // 0.1 + 0.2 in floats is not 0.3; in pico-dollars it is.
    expect(toPico(0.1) + toPico(0.2)).toBe(toPico('0.3'));
  });
});

describe('budget periods (UTC)', () => {
  const at = new Date('2026-12-31T23:59:59.999Z');
  it('given day, month and none, then the period starts and resets where expected', () => {
    expect(periodStart('day', at).toISOString()).toBe('2026-12-31T00:00:00.000Z');
    expect(periodEnd('day', periodStart('day', at))!.toISOString()).toBe('2027-01-01T00:00:00.000Z');
    expect(periodStart('month', at).toISOString()).toBe('2026-12-01T00:00:00.000Z');
    expect(periodEnd('month', periodStart('month', at))!.toISOString()).toBe('2027-01-01T00:00:00.000Z');
    expect(periodStart('none', at).getTime()).toBe(0);
    expect(periodEnd('none', new Date(0))).toBeNull();
  });
});
