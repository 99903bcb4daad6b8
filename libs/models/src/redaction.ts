import { findPiiSpans, type RedactionKind } from '@troupe/contracts';
import { namedEntities } from './local/entities';

export interface Redaction {
  text: string;
  /** placeholder → original, to restore the provider's answer for the tenant. */
  originals: Map<string, string>;
}

const LABEL: Record<RedactionKind, string> = { email: 'EMAIL', phone: 'PHONE', 'payment-card': 'CARD', iban: 'IBAN', name: 'NAME' };

/**
 * Replaces personal data in a prompt with numbered placeholders (`[EMAIL_1]`; the same value gets
 * the same placeholder), before it leaves for a third-party provider. Patterns find emails, phones,
 * cards (Luhn) and IBANs (mod 97); compromise's tagger finds people's names.
 */
export function redact(text: string, kinds: readonly RedactionKind[]): Redaction {
  const spans: { kind: RedactionKind; start: number; end: number; text: string }[] = findPiiSpans(text, kinds);
  if (kinds.includes('name')) {
    for (const entity of namedEntities(text)) {
      if (entity.type !== 'person' || entity.text.length < 2) continue;
      for (let at = text.indexOf(entity.text); at >= 0; at = text.indexOf(entity.text, at + entity.text.length)) {
        const end = at + entity.text.length;
        if (!spans.some((s) => at < s.end && end > s.start)) spans.push({ kind: 'name', start: at, end, text: entity.text });
      }
    }
  }
  spans.sort((a, b) => a.start - b.start);
  const originals = new Map<string, string>();
  const byValue = new Map<string, string>();
  const counters = new Map<RedactionKind, number>();
  let out = '';
  let cursor = 0;
  for (const span of spans) {
    if (span.start < cursor) continue; // overlapping matches: the first wins
    let placeholder = byValue.get(`${span.kind}:${span.text}`);
    if (!placeholder) {
      const n = (counters.get(span.kind) ?? 0) + 1;
      counters.set(span.kind, n);
      placeholder = `[${LABEL[span.kind]}_${n}]`;
      byValue.set(`${span.kind}:${span.text}`, placeholder);
      originals.set(placeholder, span.text);
    }
    out += text.slice(cursor, span.start) + placeholder;
    cursor = span.end;
  }
  return { text: out + text.slice(cursor), originals };
}

const PLACEHOLDER = /\[(?:EMAIL|PHONE|CARD|IBAN|NAME)_\d+\]/g;

/** Puts the originals back wherever the answer repeats a placeholder (strings and keys, at any depth). */
export function restore<T>(value: T, originals: ReadonlyMap<string, string>): T {
  if (originals.size === 0) return value;
  const text = (s: string) => s.replace(PLACEHOLDER, (p) => originals.get(p) ?? p);
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return text(v);
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [text(k), walk(x)]));
    return v;
  };
  return walk(value) as T;
}
