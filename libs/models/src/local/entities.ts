import type nlpType from 'compromise';

export interface Entity {
  text: string;
  type: 'person' | 'place' | 'organization';
}

let nlp: typeof nlpType | undefined;

/** Trailing punctuation that compromise keeps on a match. */
const clean = (s: string) => s.replace(/^[\s"'(]+|[\s"'),.;:!?]+$/g, '');

/**
 * People, places and organisations named in English text, with compromise's rule-based tagger
 * (loaded on first use: services that never ask never pay for it). Each entity once, in order.
 */
export function namedEntities(text: string): Entity[] {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  nlp ??= require('compromise') as typeof nlpType;
  const doc = nlp(text);
  const found: Entity[] = [];
  const seen = new Set<string>();
  const add = (type: Entity['type'], matches: string[]) => {
    for (const m of matches) {
      const value = clean(m);
      const key = `${type}:${value.toLowerCase()}`;
      if (!value || seen.has(key)) continue;
      seen.add(key);
      found.push({ text: value, type });
    }
  };
  add('person', doc.people().out('array') as string[]);
  add('place', doc.places().out('array') as string[]);
  add('organization', doc.organizations().out('array') as string[]);
  return found;
}
