import type { TokenUsage } from './model-adapter';
import type { ModelSpec } from './model-catalogue';

/**
 * A quick token estimate (about 4 characters a token for English with BPE tokenizers), for local
 * models (which cost nothing) and for the context-length check before a call.
 */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

let tokenizer: { countTokens(text: string): number } | undefined;

/**
 * Tokens counted with a real BPE tokenizer (o200k_base, the GPT-4o family's; close for other
 * models), for a provider that did not report usage. Reported usage always wins. The encoding is
 * loaded on first use (about 200 ms), so services that never need it never pay for it.
 */
export function countTokens(text: string): number {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  tokenizer ??= require('gpt-tokenizer/cjs/encoding/o200k_base') as { countTokens(text: string): number };
  return tokenizer.countTokens(text);
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
