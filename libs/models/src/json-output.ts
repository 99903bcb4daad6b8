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

/** Reads a provider's body, failing as malformed output when a 2xx body is not JSON. */
export async function readJsonBody(
  response: Response,
  providerRequestId?: string,
): Promise<Record<string, any>> {
  const text = await response.text();
  try {
    return JSON.parse(text) as Record<string, any>;
  } catch {
    throw new ModelError(
      ModelErrorKind.MALFORMED_OUTPUT,
      `the provider answered ${response.status} with a body that is not JSON`,
      {
        status: response.status,
        providerRequestId,
      },
    );
  }
}
