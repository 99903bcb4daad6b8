import type { OutputComparison } from '@troupe/contracts';
import { compare } from 'fast-json-patch';
import { distance } from 'fastest-levenshtein';

const MAX_DIFF_OPERATIONS = 50;

/**
 * Two outputs compared: equal or not, the JSON Patch (RFC 6902) from `a` to `b`, and a similarity
 * in 0..1: over the union of both outputs' leaf paths, a leaf present in one only scores 0, equal
 * leaves 1, two strings 1 - edit distance / longer length, other differing values 0.
 */
export function compareOutputs(a: unknown, b: unknown): OutputComparison {
  const diff = a !== null && b !== null && typeof a === 'object' && typeof b === 'object' ? compare(a, b) : [{ op: 'replace', path: '', value: b }];
  const exact = canonical(a) === canonical(b);
  return {
    exact,
    similarity: exact ? 1 : similarity(a, b),
    diff: exact ? [] : diff.slice(0, MAX_DIFF_OPERATIONS),
    diffTruncated: !exact && diff.length > MAX_DIFF_OPERATIONS,
  };
}

function similarity(a: unknown, b: unknown): number {
  const left = leaves(a);
  const right = leaves(b);
  const paths = new Set([...left.keys(), ...right.keys()]);
  if (paths.size === 0) return 1;
  let score = 0;
  for (const path of paths) {
    if (!left.has(path) || !right.has(path)) continue;
    score += leafSimilarity(left.get(path), right.get(path));
  }
  return Math.round((score / paths.size) * 1e4) / 1e4;
}

function leafSimilarity(x: unknown, y: unknown): number {
  if (x === y) return 1;
  if (typeof x === 'string' && typeof y === 'string') {
    const longer = Math.max(x.length, y.length);
    return longer === 0 ? 1 : 1 - distance(x, y) / longer;
  }
  return canonical(x) === canonical(y) ? 1 : 0;
}

/** Leaf values by JSON pointer; an empty object or array is a leaf of its own. */
function leaves(value: unknown, path = '', out = new Map<string, unknown>()): Map<string, unknown> {
  if (value !== null && typeof value === 'object') {
    const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value as Record<string, unknown>);
    if (entries.length === 0) out.set(path, value);
    for (const [key, v] of entries) leaves(v, `${path}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`, out);
  } else {
    out.set(path, value);
  }
  return out;
}

/** JSON with sorted keys: key order does not make two outputs differ. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)))
      : v,
  ) ?? 'undefined';
}
