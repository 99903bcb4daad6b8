import { ModelError, ModelErrorKind } from './model-error';
import type { TokenUsage } from './model-adapter';

/**
 * Parses a model's JSON answer. Models sometimes wrap JSON in a Markdown fence; that is unwrapped,
 * anything else that is not one JSON object is malformed output (with the usage, so it is still billed).
 */
export function parseJsonOutput(
  text: string,
  usage?: TokenUsage,
  providerRequestId?: string,
): Record<string, unknown> {
  const fenced = /^\s*```(?:json)?\s*([\s\S]*?)\s*```\s*$/i.exec(text);
  const candidate = fenced ? fenced[1] : text;
  let value: unknown;
  try {
    value = JSON.parse(candidate);
  } catch {
    throw new ModelError(
      ModelErrorKind.MALFORMED_OUTPUT,
      `the model did not answer valid JSON: ${text.slice(0, 120)}`,
      { usage, providerRequestId },
    );
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ModelError(ModelErrorKind.MALFORMED_OUTPUT, 'the model answered JSON that is not an object', {
      usage,
      providerRequestId,
    });
  }
  return value as Record<string, unknown>;
}

/** Parses a provider's 2xx body, failing as malformed output when it is not JSON. */
export function parseJsonBody(status: number, text: string, providerRequestId?: string): Record<string, any> {
  try {
    return JSON.parse(text) as Record<string, any>;
  } catch {
    throw new ModelError(
      ModelErrorKind.MALFORMED_OUTPUT,
      `the provider answered ${status} with a body that is not JSON`,
      {
        status,
        providerRequestId,
      },
    );
  }
}
