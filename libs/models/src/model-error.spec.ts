import { errorFromResponse, ModelErrorKind, parseRetryAfter } from './model-error';

const headers = (h: Record<string, string>) => ({ get: (name: string) => h[name] ?? null });

describe('Retry-After', () => {
  it('given seconds, an HTTP date or retry-after-ms, when parsed, then it is milliseconds to wait', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter(headers({ 'retry-after': '2' }), now)).toBe(2_000);
    expect(parseRetryAfter(headers({ 'retry-after': '0.5' }), now)).toBe(500);
    expect(parseRetryAfter(headers({ 'retry-after': 'Thu, 01 Jan 2026 00:00:03 GMT' }), now)).toBe(3_000);
    expect(parseRetryAfter(headers({ 'retry-after-ms': '250', 'retry-after': '9' }), now)).toBe(250);
    expect(parseRetryAfter(headers({ 'retry-after': 'soon' }), now)).toBeUndefined();
    expect(parseRetryAfter(headers({}), now)).toBeUndefined();
  });
});

describe('error classes from responses', () => {
  it('given an OpenAI or Anthropic error body, when classified, then the provider message is kept and headers are not', () => {
    const openai = errorFromResponse(
      429,
      headers({ 'retry-after': '1', 'set-cookie': 'secret=1' }),
      '{"error":{"message":"Rate limit reached","type":"requests"}}',
      'req_1',
    );
    expect(openai).toMatchObject({
      kind: ModelErrorKind.RATE_LIMITED,
      message: 'HTTP 429: Rate limit reached',
      details: { retryAfterMs: 1_000, providerRequestId: 'req_1' },
    });
    expect(JSON.stringify(openai)).not.toContain('secret');
    const anthropic = errorFromResponse(
      529,
      headers({}),
      '{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}',
    );
    expect(anthropic).toMatchObject({ kind: ModelErrorKind.UNAVAILABLE, message: 'HTTP 529: Overloaded' });
    expect(
      errorFromResponse(413, headers({}), 'prompt is too long: 210000 tokens > 200000 maximum').kind,
    ).toBe(ModelErrorKind.CONTEXT_TOO_LONG);
  });
});
