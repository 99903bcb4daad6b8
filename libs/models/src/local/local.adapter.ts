import type { ModelAdapter, ModelRequest, ModelResponse } from '../model-adapter';
import type { ResolvedModel } from '../model-catalogue';
import { ModelError, ModelErrorKind } from '../model-error';
import { estimateTokens } from '../cost';
import { namedEntities } from './entities';
import { summarise } from './extractive-summary';
import { extractFields } from './field-extraction';
import { templatedReply } from './templated-reply';
import { analyseSentiment } from './text-analysis';
import { untranslated } from './translation-stub';

/**
 * In-process models that need no API key and do honest, deterministic work, behind the same
 * interface as remote providers (so they take part in fallbacks and cascades).
 */
export class LocalAdapter implements ModelAdapter {
  static readonly MODELS = ['extractive-summary', 'templated-reply', 'field-extractor', 'entities', 'sentiment', 'no-translation'] as const;

  async call(model: ResolvedModel, request: ModelRequest, signal: AbortSignal): Promise<ModelResponse> {
    if (signal.aborted) throw new ModelError(ModelErrorKind.TIMEOUT, 'aborted before the local model ran');
    let output: unknown;
    let confidence: number | undefined;
    switch (model.model) {
      case 'extractive-summary': {
        const max = Number(request.params.maxSentences ?? 3);
        output = summarise(request.input.text, Number.isFinite(max) && max > 0 ? Math.floor(max) : 3);
        break;
      }
      case 'templated-reply': {
        if (!request.classification)
          throw new ModelError(ModelErrorKind.INVALID_REQUEST, 'templated-reply needs a classification');
        // On a regeneration, quote nothing of the input: the quote is what a policy can refuse.
        output = templatedReply(request.input.text, request.classification, {
          quoteInput: !request.previousErrors?.length,
        });
        // The template is only as right as the label it was chosen by.
        confidence = request.classification.confidence;
        break;
      }
      case 'field-extractor':
        output = extractFields(request.input.text);
        break;
      case 'entities':
        output = { entities: namedEntities(request.input.text) };
        break;
      case 'sentiment':
        output = analyseSentiment(request.input.text);
        break;
      case 'no-translation': {
        const target = request.params.targetLanguage;
        output = untranslated(request.input.text, typeof target === 'string' ? target : undefined);
        break;
      }
      default:
        throw new ModelError(ModelErrorKind.UNKNOWN_MODEL, `the local provider has no model ${model.model}`);
    }
    const text = JSON.stringify(output);
    return {
      text,
      output,
      finishReason: 'stop',
      usage: {
        inputTokens: estimateTokens(request.system + request.input.text),
        outputTokens: estimateTokens(text),
      },
      confidence,
    };
  }
}
