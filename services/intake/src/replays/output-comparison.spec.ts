import { compareOutputs } from './output-comparison';

describe('compareOutputs', () => {
  it('given equal outputs in another key order, then they are exact, similarity 1 and no diff', () => {
    expect(compareOutputs({ a: 1, b: { c: 'x' } }, { b: { c: 'x' }, a: 1 })).toEqual({ exact: true, similarity: 1, diff: [], diffTruncated: false });
  });

  it('given a changed string, then the diff replaces it and the similarity is its edit distance share', () => {
    const r = compareOutputs({ reply: 'Hello there', tone: 'neutral' }, { reply: 'Hello where', tone: 'neutral' });
    expect(r.exact).toBe(false);
    expect(r.diff).toEqual([{ op: 'replace', path: '/reply', value: 'Hello where' }]);
    // reply: 1 - 1/11; tone: 1; mean of the two.
    expect(r.similarity).toBeCloseTo((1 - 1 / 11 + 1) / 2, 4);
  });

  it('given a field only on one side and a changed number, then each scores 0', () => {
    const r = compareOutputs({ a: 1, b: 2 }, { a: 1, b: 3, c: true });
    expect(r.similarity).toBeCloseTo(1 / 3, 4);
    expect(r.diff).toEqual(expect.arrayContaining([{ op: 'replace', path: '/b', value: 3 }, { op: 'add', path: '/c', value: true }]));
  });

  it('given non-objects, then the diff replaces the whole and strings still compare by edit distance', () => {
    expect(compareOutputs('abcd', 'abce')).toMatchObject({ exact: false, similarity: 0.75, diff: [{ op: 'replace', path: '', value: 'abce' }] });
    expect(compareOutputs(null, { a: 1 }).similarity).toBe(0);
  });

  it('given many differences, then the diff is cut at 50 operations and says so', () => {
    const a = Object.fromEntries(Array.from({ length: 80 }, (_, i) => [`k${i}`, i]));
    const b = Object.fromEntries(Array.from({ length: 80 }, (_, i) => [`k${i}`, i + 1]));
    const r = compareOutputs(a, b);
    expect(r.diff).toHaveLength(50);
    expect(r.diffTruncated).toBe(true);
    expect(r.similarity).toBe(0);
  });
});
