import { findUnstorableText, isStorableText, toStorableText, toStorableValue } from './storable-text';

describe('storable text', () => {
  it.each([
    ['plain', true],
    ['emoji 😀 (a surrogate pair)', true],
    ['nul \u0000', false],
    ['lone high \ud800 x', false],
    ['lone high at end \ud83d', false],
    ['lone low \udc00', false],
    ['reversed pair \ude00\ud83d', false],
  ])('%s -> storable %s', (text, storable) => {
    expect(isStorableText(text)).toBe(storable);
  });

  it('replaces every NUL and lone surrogate, keeping pairs', () => {
    expect(toStorableText('a\u0000b\ud800c😀\udc00')).toBe('a\ufffdb\ufffdc😀\ufffd');
  });

  it('names the path of the first bad string, keys included', () => {
    expect(findUnstorableText({ input: { text: 'ok', metadata: { a: ['x', 'b\u0000'] } } })).toEqual({
      path: 'input.metadata.a.1',
      message: 'contains a NUL character (U+0000)',
    });
    expect(findUnstorableText({ ['k\ud800']: 1 })?.path).toBe('k\ud800');
    expect(findUnstorableText({ a: [1, null, true, 'fine'] })).toBeUndefined();
  });

  it('normalises a nested value and leaves a clean one as it is', () => {
    const clean = { a: ['x'] };
    expect(toStorableValue(clean)).toBe(clean);
    expect(toStorableValue({ reply: 'hi\u0000', ['k\ud800']: ['\udc00'] })).toEqual({ reply: 'hi\ufffd', ['k\ufffd']: ['\ufffd'] });
  });
});
