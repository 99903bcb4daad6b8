import LanguageDetect from 'languagedetect';
import Sentiment from 'sentiment';

// Models ship inside the npm packages (trigram profiles, AFINN-165 word list): no API key, no download.
const languageDetector = new LanguageDetect();
languageDetector.setLanguageType('iso2');
const sentimentAnalyzer = new Sentiment();

/** ISO 639-1 code of the text's language, `und` when too short to tell. */
export function detectLanguage(text: string): string {
  if (text.trim().length < 12) return 'und';
  const [best] = languageDetector.detect(text, 1) as [string | null, number][];
  return best?.[0] ?? 'und';
}

export interface SentimentReading {
  /** AFINN-165 sum over the words. */
  score: number;
  /** The score per word: comparable across texts of any length. */
  comparative: number;
  label: 'negative' | 'neutral' | 'positive';
}

/** Lexicon-based sentiment (AFINN-165, English), with a neutral band of ±0.05 per word. */
export function analyseSentiment(text: string): SentimentReading {
  const s = sentimentAnalyzer.analyze(text);
  const label = s.comparative > 0.05 ? 'positive' : s.comparative < -0.05 ? 'negative' : 'neutral';
  return { score: s.score, comparative: s.comparative, label };
}
