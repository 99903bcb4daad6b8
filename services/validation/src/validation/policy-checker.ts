import {
  CARD_PATTERN,
  EMAIL_PATTERN,
  IBAN_PATTERN,
  ibanValid,
  luhnValid,
  PHONE_PATTERN,
  type FailureReason,
  type PiiKind,
  type PoliciesSpec,
  type PolicyAction,
} from '@troupe/contracts';

/** Finding codes, one per thing a policy can find. */
export enum PolicyCode {
  PII_EMAIL = 'POLICY_PII_EMAIL',
  PII_PHONE = 'POLICY_PII_PHONE',
  PII_PAYMENT_CARD = 'POLICY_PII_PAYMENT_CARD',
  PII_IBAN = 'POLICY_PII_IBAN',
  SECRET_API_KEY = 'POLICY_SECRET_API_KEY',
  SECRET_PRIVATE_KEY = 'POLICY_SECRET_PRIVATE_KEY',
  BLOCKED_TERM = 'POLICY_BLOCKED_TERM',
  INSTRUCTION_ECHO = 'POLICY_INSTRUCTION_ECHO',
  MAX_LENGTH = 'POLICY_MAX_LENGTH',
}

export interface PolicyFinding extends FailureReason {
  code: PolicyCode;
  action: PolicyAction;
}

/** A string inside the output and its JSON pointer. */
interface TextAt {
  path: string;
  text: string;
}

/** Every string of the output (keys excluded), depth first, with its JSON pointer. */
export function stringsOf(value: unknown, path = ''): TextAt[] {
  if (typeof value === 'string') return [{ path: path || '/', text: value }];
  if (Array.isArray(value)) return value.flatMap((v, i) => stringsOf(v, `${path}/${i}`));
  if (value && typeof value === 'object') {
    return Object.entries(value as Record<string, unknown>).flatMap(([k, v]) =>
      stringsOf(v, `${path}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`),
    );
  }
  return [];
}

/**
 * Findings never repeat what they found: reasons reach timelines, webhooks and logs, and a leaked
 * secret or a card number must not travel further. Only a hint of its shape is kept.
 */
const mask = (s: string) => (s.length <= 4 ? '****' : `${s.slice(0, 2)}…${s.slice(-2)} (${s.length} chars)`);

// The detectors are shared with the model layer's redaction (libs/contracts pii.ts).
const EMAIL = EMAIL_PATTERN;
const PHONE = PHONE_PATTERN;
const CARD = CARD_PATTERN;
const IBAN = IBAN_PATTERN;

const API_KEYS: { name: string; pattern: RegExp }[] = [
  { name: 'an OpenAI/Anthropic-style API key', pattern: /\bsk-(?:[A-Za-z]+-)?[A-Za-z0-9_-]{20,}/g },
  { name: 'an AWS access key id', pattern: /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g },
  { name: 'a GitHub token', pattern: /\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,})\b/g },
  { name: 'a Slack token', pattern: /\bxox[abprs]-[A-Za-z0-9-]{10,}/g },
  { name: 'a Google API key', pattern: /\bAIza[0-9A-Za-z_-]{35}\b/g },
  { name: 'a Stripe secret key', pattern: /\b[rs]k_live_[0-9A-Za-z]{16,}\b/g },
];
const PRIVATE_KEY = /-----BEGIN (?:[A-Z]+ )*PRIVATE KEY(?: BLOCK)?-----/g;

// Sentences that address the model rather than describe the user's problem.
const INSTRUCTION_MARKERS = [
  /\b(?:ignore|disregard|forget|override)\b[^.!?\n]{0,40}\b(?:instructions?|prompts?|rules|guidelines|above|previous|prior)\b/i,
  /\byou are now\b/i,
  /\b(?:system prompt|developer mode|jailbreak)\b/i,
  /\b(?:act as|pretend to be|from now on,? you)\b/i,
  /\b(?:reveal|print|repeat|output)\b[^.!?\n]{0,30}\b(?:instructions|prompt|system message)\b/i,
];

export { ibanValid, luhnValid };

const normalise = (s: string) =>
  s
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();

/** The input's sentences that read as instructions to the model. */
export function instructionSentences(input: string): string[] {
  return input
    .split(/(?<=[.!?])\s+|\n+/)
    .map((s) => s.trim())
    .filter((s) => s && INSTRUCTION_MARKERS.some((m) => m.test(s)));
}

/**
 * Runs a workflow's policies over an output. `input` is the job's (untrusted) input, for the
 * instruction-echo check. Policies the workflow does not configure do not run.
 */
export function checkPolicies(policies: PoliciesSpec, output: unknown, input: string): PolicyFinding[] {
  const strings = stringsOf(output);
  const findings: PolicyFinding[] = [];
  const add = (code: PolicyCode, action: PolicyAction, path: string, message: string) => {
    // One finding per code and path is enough to act on; more would only repeat it.
    if (!findings.some((f) => f.code === code && f.path === path)) findings.push({ code, action, path, message });
  };

  if (policies.pii) {
    const { kinds, action } = policies.pii;
    const wants = (k: PiiKind) => kinds.includes(k);
    for (const { path, text } of strings) {
      if (wants('email')) {
        for (const m of text.matchAll(EMAIL)) add(PolicyCode.PII_EMAIL, action, path, `${path} contains an email address (${mask(m[0])})`);
      }
      const cardSpans: [number, number][] = [];
      if (wants('payment-card')) {
        for (const m of text.matchAll(CARD)) {
          const digits = m[0].replace(/\D/g, '');
          if (digits.length >= 13 && digits.length <= 19 && luhnValid(digits)) {
            cardSpans.push([m.index ?? 0, (m.index ?? 0) + m[0].length]);
            add(PolicyCode.PII_PAYMENT_CARD, action, path, `${path} contains a payment card number (ending ${digits.slice(-4)})`);
          }
        }
      }
      if (wants('phone')) {
        for (const m of text.matchAll(PHONE)) {
          const start = m.index ?? 0;
          const digits = m[0].replace(/\D/g, '');
          const insideCard = cardSpans.some(([a, b]) => start >= a && start < b);
          if (!insideCard && digits.length >= 8 && digits.length <= 15) {
            add(PolicyCode.PII_PHONE, action, path, `${path} contains a phone number (${mask(digits)})`);
          }
        }
      }
      if (wants('iban')) {
        for (const m of text.matchAll(IBAN)) {
          if (ibanValid(m[0])) add(PolicyCode.PII_IBAN, action, path, `${path} contains an IBAN (${m[0].slice(0, 2)}…)`);
        }
      }
    }
  }

  if (policies.secrets) {
    const { action } = policies.secrets;
    for (const { path, text } of strings) {
      for (const { name, pattern } of API_KEYS) {
        for (const m of text.matchAll(pattern)) add(PolicyCode.SECRET_API_KEY, action, path, `${path} contains ${name} (${mask(m[0])})`);
      }
      if (PRIVATE_KEY.test(text)) add(PolicyCode.SECRET_PRIVATE_KEY, action, path, `${path} contains a private key`);
      PRIVATE_KEY.lastIndex = 0;
    }
  }

  if (policies.blockedTerms) {
    const { terms, action } = policies.blockedTerms;
    const wanted = terms.map((t) => ({ term: t, norm: ` ${normalise(t)} ` }));
    for (const { path, text } of strings) {
      const hay = ` ${normalise(text)} `;
      for (const { term, norm } of wanted) {
        if (norm.trim() && hay.includes(norm)) add(PolicyCode.BLOCKED_TERM, action, path, `${path} contains the blocked term "${term}"`);
      }
    }
  }

  if (policies.instructionEcho) {
    const { action } = policies.instructionEcho;
    const sentences = instructionSentences(input).map((s) => normalise(s).split(' ').filter(Boolean));
    for (const { path, text } of strings) {
      const hay = ` ${normalise(text)} `;
      for (const words of sentences) {
        // The whole sentence, or any run of six of its words, repeated: enough to be no coincidence.
        const n = Math.min(6, words.length);
        let echoed = false;
        for (let i = 0; i + n <= words.length && !echoed; i++) echoed = hay.includes(` ${words.slice(i, i + n).join(' ')} `);
        if (echoed) add(PolicyCode.INSTRUCTION_ECHO, action, path, `${path} repeats an instruction found in the input (a sign of prompt injection)`);
      }
    }
  }

  if (policies.maxLength) {
    const { characters, action } = policies.maxLength;
    const total = strings.reduce((n, s) => n + s.text.length, 0);
    if (total > characters) add(PolicyCode.MAX_LENGTH, action, '/', `output has ${total} characters of text; at most ${characters} allowed`);
  }

  return findings;
}
