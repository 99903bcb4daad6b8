import type { ModelRequest } from './model-adapter';
import type { ResolvedModel } from './model-catalogue';

const PICO = 1e12;
const pico = (usd: number) => Math.round(usd * PICO);

/**
 * The most one call can cost: every byte of the prompt a token (byte-level BPE tokenizers never
 * produce more tokens than bytes), plus the chat format's per-message tokens, and the reply at the
 * model's (or the request's) output limit. In USD, from the catalogue's prices.
 */
export function worstCaseCostUsd(model: ResolvedModel, request: Pick<ModelRequest, 'system' | 'user' | 'maxOutputTokens'>): number {
  if (!model.price) return 0;
  const input = Buffer.byteLength(request.system, 'utf8') + Buffer.byteLength(request.user, 'utf8') + 9;
  const output = request.maxOutputTokens ?? model.capabilities.maxOutputTokens;
  return (input * Math.round(model.price.inputPerMTok * 1e6) + output * Math.round(model.price.outputPerMTok * 1e6)) / PICO;
}

/**
 * A job's spending allowance in this process: its reservation, what it has spent so far, and the
 * worst cases of the calls in flight. A call starts only when its worst case fits (`hold`), so calls
 * running at once (parallel plans, parallel steps) cannot together pass the reservation.
 */
export class CostWallet {
  private spentPico: number;
  private heldPico = 0;

  constructor(
    readonly reservedUsd: number,
    spentUsd: number,
  ) {
    this.spentPico = pico(spentUsd);
  }

  get spentUsd(): number {
    return this.spentPico / PICO;
  }

  get remainingUsd(): number {
    return (pico(this.reservedUsd) - this.spentPico - this.heldPico) / PICO;
  }

  /** What the durable record says was spent before (a step started after others recorded theirs). */
  atLeast(spentUsd: number): void {
    this.spentPico = Math.max(this.spentPico, pico(spentUsd));
  }

  /** Sets aside a call's worst case; false (nothing set aside) when it does not fit. */
  hold(worstUsd: number): boolean {
    const worst = pico(worstUsd);
    if (this.spentPico + this.heldPico + worst > pico(this.reservedUsd)) return false;
    this.heldPico += worst;
    return true;
  }

  /** The call ended: its hold is replaced by what it cost. */
  spend(worstUsd: number, actualUsd: number): void {
    this.heldPico -= pico(worstUsd);
    this.spentPico += pico(actualUsd);
  }
}
