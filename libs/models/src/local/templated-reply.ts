import type { Classification } from '@troupe/contracts';

const GREETINGS: Record<string, { hello: string; thanks: string; sorry: string; closing: string }> = {
  en: { hello: 'Hello', thanks: 'Thank you for contacting us', sorry: 'We are sorry for the trouble', closing: 'Kind regards,\nThe support team' },
  fr: { hello: 'Bonjour', thanks: 'Merci de nous avoir contactés', sorry: 'Nous sommes désolés pour ce désagrément', closing: 'Cordialement,\nL’équipe support' },
  de: { hello: 'Hallo', thanks: 'Vielen Dank für Ihre Nachricht', sorry: 'Es tut uns leid für die Unannehmlichkeiten', closing: 'Mit freundlichen Grüßen\nIhr Support-Team' },
  es: { hello: 'Hola', thanks: 'Gracias por contactarnos', sorry: 'Lamentamos las molestias', closing: 'Saludos cordiales,\nEl equipo de soporte' },
};

// The body stays in English for now; greetings follow the customer's language.
const BODIES: Record<string, string> = {
  billing: 'Our billing team is reviewing the charges on your account and will confirm the details of your invoice within two business days.',
  technical: 'Our engineers are looking into the problem you describe. Meanwhile, updating to the latest version and restarting the app often helps.',
  account: 'For your security, please use the "Forgot password" link on the sign-in page; if that does not work, reply and we will verify your identity.',
  complaint: 'Your feedback has been passed to a team lead, who will personally follow up with you.',
  default: 'A member of our team will look into your request and get back to you shortly.',
};

/** The ticket's first sentence, shortened: the only part of the (untrusted) input quoted back. */
export function subjectLine(text: string): string {
  const first = text.split(/(?<=[.!?])\s|\n/)[0]?.trim() ?? '';
  const short = first.length > 80 ? `${first.slice(0, 77).trimEnd()}...` : first;
  return short.replace(/[\r\n"]/g, ' ');
}

/**
 * A support reply from a template chosen by the classification; tone follows the sentiment.
 * `quoteInput: false` (what a retry after a failed validation asks for) leaves the subject line out:
 * the quoted input is the only part of the reply that can carry what a policy refused.
 */
export function templatedReply(text: string, c: Classification, options: { quoteInput?: boolean } = {}) {
  const language = c.language in GREETINGS ? c.language : 'en';
  const g = GREETINGS[language];
  const tone = c.sentiment.label === 'negative' ? 'apologetic' : c.sentiment.label === 'positive' ? 'friendly' : 'neutral';
  const opening = tone === 'apologetic' ? `${g.sorry}.` : `${g.thanks}.`;
  const reply = [
    `${g.hello},`,
    '',
    options.quoteInput === false ? opening : `${opening} Regarding "${subjectLine(text)}":`,
    BODIES[c.label] ?? BODIES.default,
    '',
    g.closing,
  ].join('\n');
  return { reply, label: c.label, tone, language } as const;
}
