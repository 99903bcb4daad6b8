import { namedEntities } from './entities';

export interface ExtractedFields {
  /** Every sum of money written with a currency, in order. */
  amounts: { amount: number; currency: string }[];
  /** The amount introduced by "total", "amount due" or "balance" (else the largest); null without amounts. */
  total: number | null;
  currency: string | null;
  /** Dates written in full (ISO, `12 March 2025`, `March 12, 2025`), as ISO dates. */
  dates: string[];
  /** Invoice, order and reference numbers. */
  references: string[];
  organizations: string[];
  people: string[];
}

const CURRENCY: Record<string, string> = {
  '€': 'EUR',
  $: 'USD',
  '£': 'GBP',
  eur: 'EUR',
  usd: 'USD',
  gbp: 'GBP',
  chf: 'CHF',
};
// Thousands-grouped first (`1,250.00`, `1.250,00`, `1 250`), then plain (`1250.5`).
const NUMBER = String.raw`\d{1,3}(?:[.,\s]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?`;
const MONEY = new RegExp(
  String.raw`(?:(€|\$|£|\b(?:EUR|USD|GBP|CHF)\b)\s?(${NUMBER}))|(?:(${NUMBER})\s?(€|\$|£|\b(?:EUR|USD|GBP|CHF)\b))`,
  'gi',
);
const TOTAL_CUE = /\b(?:total(?:\s+due)?|amount\s+due|balance(?:\s+due)?|grand\s+total)\b[^\d€$£]{0,20}$/i;
const MONTHS = [
  'january',
  'february',
  'march',
  'april',
  'may',
  'june',
  'july',
  'august',
  'september',
  'october',
  'november',
  'december',
];
const MONTH = String.raw`(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)`;
const ISO_DATE = /\b(\d{4})-(\d{2})-(\d{2})\b/g;
const DAY_MONTH_YEAR = new RegExp(String.raw`\b(\d{1,2})(?:st|nd|rd|th)?\s+${MONTH}\.?\s+(\d{4})\b`, 'gi');
const MONTH_DAY_YEAR = new RegExp(String.raw`\b${MONTH}\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})\b`, 'gi');
// A reference has a digit in it: `INV-2024-113`, `invoice no. 4471`, not the word `Invoice`.
const REFERENCE =
  /\b(?:(?:INV|PO|REF|ORD|ORDER|CASE|TICKET)[-#/]?\s?(?=[A-Z0-9-/]*\d)[A-Z0-9][A-Z0-9-/]{1,}|(?:invoice|order|reference|ref)\s+(?:no\.?|number|#)\s*(?=[A-Z0-9-/]*\d)[A-Z0-9][A-Z0-9-/]{2,})\b/gi;

/** `1,250.00`, `1.250,00` or `1 250,5` as a number: the last separator followed by 1-2 digits is the decimal one. */
function parseAmount(raw: string): number {
  const compact = raw.replace(/\s/g, '');
  const decimal = /[.,](\d{1,2})$/.exec(compact);
  const whole = (decimal ? compact.slice(0, -decimal[0].length) : compact).replace(/[.,]/g, '');
  return Number(`${whole}${decimal ? `.${decimal[1]}` : ''}`);
}

function isoDate(year: string, month: number, day: string): string | undefined {
  const d = Number(day);
  if (month < 1 || month > 12 || d < 1 || d > 31) return undefined;
  return `${year}-${String(month).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
}

const monthNumber = (name: string) =>
  MONTHS.findIndex((m) => m.startsWith(name.toLowerCase().slice(0, 3))) + 1;

/**
 * Fields of a business document (invoice, order, letter) found by patterns and an NLP tagger: no
 * model, no network, deterministic. What it cannot find is empty, never guessed.
 */
export function extractFields(text: string): ExtractedFields {
  const amounts: (ExtractedFields['amounts'][number] & { cued: boolean })[] = [];
  for (const m of text.matchAll(MONEY)) {
    const symbol = (m[1] ?? m[4]).toLowerCase();
    const amount = parseAmount(m[2] ?? m[3]);
    if (!Number.isFinite(amount)) continue;
    amounts.push({
      amount,
      currency: CURRENCY[symbol] ?? symbol.toUpperCase(),
      cued: TOTAL_CUE.test(text.slice(Math.max(0, m.index! - 40), m.index)),
    });
  }
  const total = amounts.find((a) => a.cued) ?? [...amounts].sort((a, b) => b.amount - a.amount)[0];
  const dates = new Set<string>();
  for (const m of text.matchAll(ISO_DATE)) {
    const d = isoDate(m[1], Number(m[2]), m[3]);
    if (d) dates.add(d);
  }
  for (const m of text.matchAll(DAY_MONTH_YEAR)) {
    const d = isoDate(m[3], monthNumber(m[2]), m[1]);
    if (d) dates.add(d);
  }
  for (const m of text.matchAll(MONTH_DAY_YEAR)) {
    const d = isoDate(m[3], monthNumber(m[1]), m[2]);
    if (d) dates.add(d);
  }
  const references = [
    ...new Set(
      [...text.matchAll(REFERENCE)].map((m) =>
        m[0].replace(/^(?:invoice|order|reference|ref)\s+(?:no\.?|number|#)\s*/i, ''),
      ),
    ),
  ];
  const entities = namedEntities(text);
  return {
    amounts: amounts.map(({ amount, currency }) => ({ amount, currency })),
    total: total?.amount ?? null,
    currency: total?.currency ?? null,
    dates: [...dates].sort(),
    references,
    organizations: entities.filter((e) => e.type === 'organization').map((e) => e.text),
    people: entities.filter((e) => e.type === 'person').map((e) => e.text),
  };
}
