const STOPWORDS = new Set(
  (
    'a an and are as at be been but by can could did do does for from had has have he her his how i if in into is it ' +
    'its me my no not of on or our she so that the their them then there these they this those to us was we were what ' +
    'when where which who will with would you your also than too very just about over after before more most such'
  ).split(' '),
);
const ABBREVIATIONS = /\b(e\.g|i\.e|mr|mrs|ms|dr|prof|inc|ltd|etc|vs|no|fig)\.$/i;

/** Sentences, split on . ! ? and line breaks, not after common abbreviations. */
export function splitSentences(text: string): string[] {
  const sentences: string[] = [];
  let current = '';
  for (const part of text.split(/(?<=[.!?])\s+|\n+/)) {
    current = current ? `${current} ${part}` : part;
    if (!ABBREVIATIONS.test(current.trim())) {
      if (current.trim()) sentences.push(current.trim());
      current = '';
    }
  }
  if (current.trim()) sentences.push(current.trim());
  return sentences;
}

const words = (s: string) => s.toLowerCase().match(/[\p{L}\p{N}']+/gu) ?? [];

/**
 * Extractive summary: scores each sentence by the normalised frequency of its content words in the
 * whole text (averaged, so long sentences do not win by length) and keeps the best, in text order.
 */
export function summarise(text: string, maxSentences: number) {
  const sentences = splitSentences(text);
  const all = words(text);
  const frequency = new Map<string, number>();
  for (const w of all) if (!STOPWORDS.has(w)) frequency.set(w, (frequency.get(w) ?? 0) + 1);
  const top = Math.max(1, ...frequency.values());
  const scored = sentences.map((sentence, index) => {
    const content = words(sentence).filter((w) => !STOPWORDS.has(w));
    const score = content.reduce((sum, w) => sum + (frequency.get(w) ?? 0) / top, 0) / Math.max(1, Math.sqrt(content.length));
    return { sentence, index, score };
  });
  const keyPoints = [...scored]
    .sort((a, b) => b.score - a.score || a.index - b.index)
    .slice(0, Math.max(1, maxSentences))
    .sort((a, b) => a.index - b.index)
    .map((s) => s.sentence);
  return { summary: keyPoints.join(' '), keyPoints, wordCount: all.length };
}
