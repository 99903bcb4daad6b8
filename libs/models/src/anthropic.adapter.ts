import { errorFromResponse, errorFromThrown, ModelError, ModelErrorKind } from './model-error';
import {
  addApiKey,
  endpointUrl,
  type ModelAdapter,
  type ModelRequest,
  type ModelResponse,
} from './model-adapter';
import type { ResolvedModel } from './model-catalogue';
import { postJson, type HttpResponse } from './http-transport';
import { parseJsonBody, parseJsonOutput } from './json-output';

const ANTHROPIC_VERSION = '2023-06-01';
const FINISH: Record<string, string> = {
  end_turn: 'stop',
  stop_sequence: 'stop',
  max_tokens: 'length',
  tool_use: 'tool_calls',
  refusal: 'content_filter',
};

/** The Anthropic Messages API (`POST {baseUrl}/v1/messages`). Plain HTTP, no SDK (see ADR 0007). */
export class AnthropicAdapter implements ModelAdapter {
  async call(model: ResolvedModel, request: ModelRequest, signal: AbortSignal): Promise<ModelResponse> {
    const provider = model.provider;
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'anthropic-version': ANTHROPIC_VERSION,
      ...provider.headers,
    };
    addApiKey(headers, provider, 'x-api-key');
    // The Messages API has no JSON mode: the system prompt asks for JSON and the answer is parsed.
    const body: Record<string, unknown> = {
      model: model.model,
      system: request.system,
      messages: [{ role: 'user', content: request.user }],
      max_tokens: request.maxOutputTokens ?? model.capabilities.maxOutputTokens,
    };
    if (request.temperature !== undefined) body.temperature = request.temperature;
    let response: HttpResponse;
    try {
      response = await postJson(endpointUrl(provider, '/v1/messages'), headers, JSON.stringify(body), signal);
    } catch (error) {
      throw errorFromThrown(error, signal.aborted);
    }
    const requestId = response.headers.get('request-id') ?? undefined;
    try {
      if (response.status < 200 || response.status >= 300) {
        throw errorFromResponse(response.status, response.headers, response.text, requestId);
      }
      const json = parseJsonBody(response.status, response.text, requestId);
      if (!Array.isArray(json.content)) {
        throw new ModelError(ModelErrorKind.MALFORMED_OUTPUT, 'the response has no content blocks', {
          providerRequestId: requestId,
        });
      }
      const text = json.content
        .filter((b: { type?: string }) => b.type === 'text')
        .map((b: { text?: string }) => b.text ?? '')
        .join('');
      const usage =
        typeof json.usage?.input_tokens === 'number'
          ? { inputTokens: json.usage.input_tokens, outputTokens: json.usage.output_tokens ?? 0 }
          : undefined;
      const providerRequestId = requestId ?? (typeof json.id === 'string' ? json.id : undefined);
      return {
        text,
        output: request.json ? parseJsonOutput(text, usage, providerRequestId) : text,
        finishReason: FINISH[json.stop_reason] ?? String(json.stop_reason ?? 'stop'),
        usage,
        providerRequestId,
      };
    } catch (error) {
      throw errorFromThrown(error, signal.aborted);
    }
  }
}
