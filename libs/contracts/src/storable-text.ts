/**
 * Text PostgreSQL cannot store: `text` and `jsonb` refuse U+0000, and a lone UTF-16 surrogate has no
 * UTF-8 encoding (it becomes a `\ud800` escape jsonb rejects). Text that enters Troupe is checked
 * (requests: refused with a 4xx naming the field) or normalised (model outputs: replaced with U+FFFD)
 * before it reaches a store.
 */
// A NUL, a high surrogate not followed by a low one, or a low surrogate not preceded by a high one.
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const UNSTORABLE_ALL = new RegExp(UNSTORABLE.source, 'g');

export const isStorableText = (text: string): boolean => !UNSTORABLE.test(text);

/** Replaces each NUL and lone surrogate with U+FFFD (the replacement character). */
export const toStorableText = (text: string): string => (isStorableText(text) ? text : text.replace(UNSTORABLE_ALL, '\ufffd'));

export interface UnstorableText {
  /** Where the text is, `a.b.0.c` (`(root)` for the value itself); keys are checked too. */
  path: string;
  message: string;
}

/** The first string (value or object key) in a JSON-like value that cannot be stored, if any. */
export function findUnstorableText(value: unknown, path: string[] = [], depth = 0): UnstorableText | undefined {
  if (typeof value === 'string') {
    if (isStorableText(value)) return undefined;
    return { path: path.join('.') || '(root)', message: describe(value) };
  }
  if (value === null || typeof value !== 'object' || depth > 64) return undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findUnstorableText(value[i], [...path, String(i)], depth + 1);
      if (found) return found;
    }
    return undefined;
  }
  for (const [key, child] of Object.entries(value)) {
    if (!isStorableText(key)) return { path: [...path, key].join('.'), message: `the key ${describe(key)}` };
    const found = findUnstorableText(child, [...path, key], depth + 1);
    if (found) return found;
  }
  return undefined;
}

/** Replaces unstorable text everywhere in a JSON-like value (strings and keys), returning a copy only if needed. */
export function toStorableValue<T>(value: T, depth = 0): T {
  if (typeof value === 'string') return toStorableText(value) as T;
  if (value === null || typeof value !== 'object' || depth > 64 || !findUnstorableText(value)) return value;
  if (Array.isArray(value)) return value.map((v) => toStorableValue(v, depth + 1)) as T;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [toStorableText(k), toStorableValue(v, depth + 1)]),
  ) as T;
}

const describe = (text: string) =>
  text.includes('\u0000') ? 'contains a NUL character (U+0000)' : 'contains a lone UTF-16 surrogate (not valid Unicode)';
