import type { Classification } from '@troupe/contracts';
import type { ResolvedModel, ResolvedProvider } from './model-catalogue';

export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
}

/** A provider-neutral request. Instructions and user data travel in separate fields, always. */
export interface ModelRequest {
  /** Instructions only: written by the workflow author, never containing user input. */
  system: string;
  /** The data message (user input, classification, prior validation errors), JSON-encoded. */
  user: string;
  /** Ask for one JSON object. */
  json: boolean;
  maxOutputTokens?: number;
  temperature?: number;
  /** Structured data for in-process models, which do not read prompts: the text to work on. */
  input: { text: string };
  /** A workflow step's whole input, when it declares one (its `text`, if any, is `input.text`). */
  data?: Record<string, unknown>;
  classification?: Classification;
  /** Validation errors of an earlier output (a regeneration); also in `user`, as data. */
  previousErrors?: { code: string; message: string; path?: string }[];
  params: Record<string, unknown>;
  /** Personal data to replace in `user` before a call to a provider that is not local (the workflow's privacy). */
  redact?: readonly import('@troupe/contracts').RedactionKind[];
}

export interface ModelResponse {
  /** The raw text the model produced. */
  text: string;
  /** Parsed JSON when `json` was asked for, else the text. */
  output: unknown;
  finishReason: string;
  /** Absent when the provider did not report it; the client then counts tokens itself. */
  usage?: TokenUsage;
  providerRequestId?: string;
  /** A confidence the model reported outside its output (local models); else read from the output. */
  confidence?: number;
}

/** The seam each wire format implements. Adapters do one HTTP call and classify its failure; policies live above. */
export interface ModelAdapter {
  call(model: ResolvedModel, request: ModelRequest, signal: AbortSignal): Promise<ModelResponse>;
}

/** The URL of an endpoint under the provider's base URL, with its fixed query parameters. */
export function endpointUrl(provider: ResolvedProvider, path: string): string {
  const query = new URLSearchParams(provider.query).toString();
  return `${provider.baseUrl}${path}${query ? `?${query}` : ''}`;
}

/** Adds the provider's key in the header its API expects. */
export function addApiKey(
  headers: Record<string, string>,
  provider: ResolvedProvider,
  fallback: 'bearer' | 'x-api-key',
): void {
  if (!provider.apiKey) return;
  const style = provider.apiKeyHeader ?? fallback;
  if (style === 'bearer') headers.authorization = `Bearer ${provider.apiKey.reveal()}`;
  else headers[style] = provider.apiKey.reveal();
}
