import type { GenerationRequest, GenerationResult, ModelProvider } from './model-provider';
import { UnknownModelError } from './model-provider';
import { summarise } from './extractive-summary';
import { templatedReply } from './templated-reply';

/** A rough token count for local models (about 4 characters a token); remote providers report real usage. */
const estimateTokens = (chars: number) => Math.ceil(chars / 4);

/** In-process models that need no API key and do honest, deterministic work. */
export class LocalModelProvider implements ModelProvider {
  readonly name = 'local';
  private readonly models = new Set(['extractive-summary', 'templated-reply']);

  supports(model: string): boolean {
    return this.models.has(model);
  }

  async generate(request: GenerationRequest): Promise<GenerationResult> {
    let output: unknown;
    switch (request.model) {
      case 'extractive-summary': {
        const max = Number(request.params.maxSentences ?? 3);
        output = summarise(request.input.text, Number.isFinite(max) && max > 0 ? Math.floor(max) : 3);
        break;
      }
      case 'templated-reply':
        output = templatedReply(request.input.text, request.classification, { quoteInput: !request.repair });
        break;
      default:
        throw new UnknownModelError(request.model);
    }
    return {
      output,
      finishReason: 'stop',
      usage: {
        inputTokens: estimateTokens((request.instructions?.length ?? 0) + request.input.text.length),
        outputTokens: estimateTokens(JSON.stringify(output).length),
      },
    };
  }
}
