import { templatedReply } from '../local-model/templated-reply';
import { withRepairNote } from './repair-feedback';

describe('repair feedback', () => {
  it('given the errors of a failed attempt, then the prompt keeps the instructions and lists each error with its path', () => {
    const prompt = withRepairNote('Draft a reply.', {
      attempt: 2,
      errors: [
        { code: 'POLICY_PII_EMAIL', path: '/reply', message: '/reply contains an email address' },
        { code: 'SCHEMA_REQUIRED', message: 'output must have required property ticketId' },
      ],
    });
    expect(prompt.startsWith('Draft a reply.\n\nThis is attempt 2.')).toBe(true);
    expect(prompt).toContain('- POLICY_PII_EMAIL at /reply: /reply contains an email address');
    expect(prompt).toContain('- SCHEMA_REQUIRED: output must have required property ticketId');
  });

  it('given a retry, then the local templated reply quotes nothing of the input', () => {
    const c = { label: 'billing', confidence: 0.8, language: 'en', sentiment: { score: 0, comparative: 0, label: 'neutral' as const }, model: 'm', signals: [] };
    const text = 'Send it to jane@example.com please.';
    expect(templatedReply(text, c).reply).toContain('jane@example.com');
    expect(templatedReply(text, c, { quoteInput: false }).reply).not.toContain('jane@example.com');
  });
});
