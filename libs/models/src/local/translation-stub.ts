import { detectLanguage } from './text-analysis';

/**
 * The honest stand-in for a translation model when none is configured: Troupe has no local
 * translator, so it returns the text as it is, says so (`translated: false`), and names the
 * language it is in. Workflows put it last in a fallback after a real model.
 */
export function untranslated(text: string, targetLanguage: string | undefined) {
  const language = detectLanguage(text);
  return {
    text,
    language,
    targetLanguage: targetLanguage ?? null,
    // Nothing was translated, whatever the language looks like (detection on short texts is a guess).
    translated: false,
    note: 'no translation model is configured: the text is returned untranslated',
  };
}
