export type BudgetPeriod = 'day' | 'month' | 'none';

/** The start of the period `at` falls in (UTC); `none` has one period, from the epoch. */
export function periodStart(period: BudgetPeriod, at: Date): Date {
  switch (period) {
    case 'day':
      return new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate()));
    case 'month':
      return new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), 1));
    case 'none':
      return new Date(0);
    default: {
      const _never: never = period;
      throw new Error(`unknown budget period ${String(_never)}`);
    }
  }
}

/** When the period that starts at `start` ends (the budget resets); null for `none`. */
export function periodEnd(period: BudgetPeriod, start: Date): Date | null {
  switch (period) {
    case 'day':
      return new Date(start.getTime() + 24 * 3600_000);
    case 'month':
      return new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 1));
    case 'none':
      return null;
    default: {
      const _never: never = period;
      throw new Error(`unknown budget period ${String(_never)}`);
    }
  }
}
