import type { TokenUsage } from './model-adapter';
import type { ModelSpec } from './model-catalogue';

/**
 * Tokens in a text when a provider does not report usage: about 4 characters a token for English
 * with BPE tokenizers, rounded up. An estimate; reported usage always wins.
 */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

/**
 * USD for a call: tokens times the catalogue's price per million tokens. Computed in integer
 * pico-dollars (price * 1e6 per token) so sums of many calls do not drift, then converted once.
 */
export function costOf(usage: TokenUsage, price: ModelSpec['price']): number {
  const picoPerInput = Math.round(price.inputPerMTok * 1e6);
  const picoPerOutput = Math.round(price.outputPerMTok * 1e6);
  const pico = usage.inputTokens * picoPerInput + usage.outputTokens * picoPerOutput;
  return pico / 1e12;
}

/** Sums costs of attempts without floating-point drift (each is a whole number of pico-dollars). */
export function sumCosts(costs: number[]): number {
  return costs.reduce((sum, c) => sum + Math.round(c * 1e12), 0) / 1e12;
}
