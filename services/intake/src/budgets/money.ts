/** Money as whole pico-dollars (BigInt): exact sums and comparisons, whatever the number of calls. */
export type Pico = bigint;

const SCALE = 12;

/** From a USD number (a model layer cost, exact in pico-dollars) or a numeric column's text. */
export function toPico(value: number | string | null | undefined): Pico {
  if (value === null || value === undefined) return 0n;
  if (typeof value === 'number') return BigInt(Math.round(value * 1e12));
  const [whole, frac = ''] = value.trim().split('.');
  const negative = whole.startsWith('-');
  const digits = BigInt((negative ? whole.slice(1) : whole) || '0') * 10n ** BigInt(SCALE) + BigInt((frac + '0'.repeat(SCALE)).slice(0, SCALE) || '0');
  return negative ? -digits : digits;
}

/** For numeric columns: exact decimal text. */
export function picoText(p: Pico): string {
  const negative = p < 0n;
  const abs = negative ? -p : p;
  const s = abs.toString().padStart(SCALE + 1, '0');
  return `${negative ? '-' : ''}${s.slice(0, -SCALE)}.${s.slice(-SCALE)}`;
}

/** For the API: a USD number (pico-exact up to about $9,000; budgets and costs are shown, not summed, from it). */
export const picoUsd = (p: Pico): number => Number(picoText(p));

export const minPico = (a: Pico, b: Pico): Pico => (a < b ? a : b);
export const maxPico = (a: Pico, b: Pico): Pico => (a > b ? a : b);
