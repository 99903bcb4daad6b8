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

const FINISH: Record<string, string> = {
  stop: 'stop',
  length: 'length',
  content_filter: 'content_filter',
  tool_calls: 'tool_calls',
};

/**
 * OpenAI Chat Completions (`POST {baseUrl}/chat/completions`), which OpenAI, Azure-style gateways,
 * Ollama, vLLM, llama.cpp server, LiteLLM and OpenRouter all speak. Plain HTTP, no SDK (see ADR 0007).
 */
export class OpenAiCompatibleAdapter implements ModelAdapter {
  async call(model: ResolvedModel, request: ModelRequest, signal: AbortSignal): Promise<ModelResponse> {
    const provider = model.provider;
    const headers: Record<string, string> = { 'content-type': 'application/json', ...provider.headers };
    addApiKey(headers, provider, 'bearer');
    const body: Record<string, unknown> = {
      model: model.model,
      messages: [
        { role: 'system', content: request.system },
        { role: 'user', content: request.user },
      ],
      max_tokens: request.maxOutputTokens ?? model.capabilities.maxOutputTokens,
    };
    if (request.temperature !== undefined) body.temperature = request.temperature;
    if (request.json && model.capabilities.json) body.response_format = { type: 'json_object' };
    let response: HttpResponse;
    try {
      response = await postJson(
        endpointUrl(provider, '/chat/completions'),
        headers,
        JSON.stringify(body),
        signal,
      );
    } catch (error) {
      throw errorFromThrown(error, signal.aborted);
    }
    const requestId = response.headers.get('x-request-id') ?? undefined;
    try {
      if (response.status < 200 || response.status >= 300) {
        throw errorFromResponse(response.status, response.headers, response.text, requestId);
      }
      const json = parseJsonBody(response.status, response.text, requestId);
      const choice = json.choices?.[0];
      const text = choice?.message?.content;
      if (typeof text !== 'string') {
        throw new ModelError(
          ModelErrorKind.MALFORMED_OUTPUT,
          'the response has no choices[0].message.content',
          { providerRequestId: requestId },
        );
      }
      const usage =
        typeof json.usage?.prompt_tokens === 'number'
          ? { inputTokens: json.usage.prompt_tokens, outputTokens: json.usage.completion_tokens ?? 0 }
          : undefined;
      const providerRequestId = requestId ?? (typeof json.id === 'string' ? json.id : undefined);
      const finishReason = FINISH[choice.finish_reason] ?? String(choice.finish_reason ?? 'stop');
      return {
        text,
        output: request.json ? parseJsonOutput(text, usage, providerRequestId) : text,
        finishReason,
        usage,
        providerRequestId,
      };
    } catch (error) {
      throw errorFromThrown(error, signal.aborted);
    }
  }
}
