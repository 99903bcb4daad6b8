/**
 * Detectors of personal data in text, shared by validation's PII policy (findings in outputs) and
 * the model layer's redaction (inputs leaving for a third-party provider).
 */

export const EMAIL_PATTERN = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g;
// International (+ or 00 prefix) or North-American style with separators; 8-15 digits overall.
export const PHONE_PATTERN =
  /(?:(?:\+|\b00)\d{1,3}[\s.-]?(?:\(\d{1,4}\)[\s.-]?)?\d{1,4}(?:[\s.-]?\d{2,4}){1,4}|\(\d{3}\)\s?\d{3}[\s.-]\d{4}|\b\d{3}[.-]\d{3}[.-]\d{4})\b/g;
export const CARD_PATTERN = /\b\d(?:[ -]?\d){12,18}\b/g;
export const IBAN_PATTERN = /\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b/g;

/** Luhn checksum, as payment card numbers carry. */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return digits.length > 0 && sum % 10 === 0;
}

/** ISO 13616 check: move the first four characters to the end, letters to numbers, mod 97 = 1. */
export function ibanValid(candidate: string): boolean {
  const iban = candidate.replace(/ /g, '');
  if (iban.length < 15 || iban.length > 34) return false;
  const rearranged = iban.slice(4) + iban.slice(0, 4);
  let remainder = 0;
  for (const ch of rearranged) {
    const value = ch >= 'A' && ch <= 'Z' ? String(ch.charCodeAt(0) - 55) : ch;
    for (const digit of value) remainder = (remainder * 10 + (digit.charCodeAt(0) - 48)) % 97;
  }
  return remainder === 1;
}

export interface PiiSpan {
  kind: 'email' | 'phone' | 'payment-card' | 'iban';
  start: number;
  end: number;
  text: string;
}

/** Emails, valid card numbers, phone numbers (not inside a card number) and valid IBANs, in text order. */
export function findPiiSpans(text: string, kinds: readonly string[]): PiiSpan[] {
  const spans: PiiSpan[] = [];
  const push = (kind: PiiSpan['kind'], m: RegExpMatchArray) => spans.push({ kind, start: m.index ?? 0, end: (m.index ?? 0) + m[0].length, text: m[0] });
  if (kinds.includes('email')) for (const m of text.matchAll(EMAIL_PATTERN)) push('email', m);
  if (kinds.includes('payment-card')) {
    for (const m of text.matchAll(CARD_PATTERN)) {
      const digits = m[0].replace(/\D/g, '');
      if (digits.length >= 13 && digits.length <= 19 && luhnValid(digits)) push('payment-card', m);
    }
  }
  if (kinds.includes('iban')) for (const m of text.matchAll(IBAN_PATTERN)) if (ibanValid(m[0])) push('iban', m);
  if (kinds.includes('phone')) {
    for (const m of text.matchAll(PHONE_PATTERN)) {
      const start = m.index ?? 0;
      const digits = m[0].replace(/\D/g, '');
      const overlaps = spans.some((s) => start < s.end && start + m[0].length > s.start);
      if (!overlaps && digits.length >= 8 && digits.length <= 15) push('phone', m);
    }
  }
  return spans.sort((a, b) => a.start - b.start);
}
