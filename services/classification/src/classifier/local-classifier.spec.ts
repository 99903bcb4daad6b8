import type { ClassifierSpec } from '@troupe/contracts';
import { classifyLocally } from './local-classifier';

const spec: ClassifierSpec = {
  kind: 'rules',
  defaultLabel: 'general',
  rules: [
    { label: 'billing', keywords: ['refund', 'invoice', 'charged'] },
    { label: 'technical', keywords: ['error', 'not working', 'c++'] },
  ],
};

describe('classifyLocally', () => {
  it('given billing words, when classified, then the label is billing with the keywords as signals', () => {
    const c = classifyLocally('I was charged twice, please send a refund for the invoice.', spec);
    expect(c.label).toBe('billing');
    expect(c.signals).toEqual(expect.arrayContaining(['keyword:refund', 'keyword:invoice', 'keyword:charged']));
    expect(c.model).toBe('local/rules-v1');
  });

  it('given no matching word, when classified, then the default label with a low confidence', () => {
    const c = classifyLocally('Hello, I would like to know your opening hours.', spec);
    expect(c).toMatchObject({ label: 'general', confidence: 0.3 });
  });

  it('given stronger evidence, when classified, then the confidence is higher', () => {
    const weak = classifyLocally('Where is my refund? Also there is an error.', spec);
    const strong = classifyLocally('Refund please: I was charged twice and the invoice is wrong.', spec);
    expect(strong.confidence).toBeGreaterThan(weak.confidence);
  });

  it('given a phrase keyword, when it appears with other spacing, then it matches, and words inside others do not', () => {
    expect(classifyLocally('The export is not   working at all', spec).label).toBe('technical');
    expect(classifyLocally('The terrorist movie was great', spec).label).toBe('general'); // "error" inside a word
  });

  it('given regex characters in a keyword, when compiled, then nothing throws and it matches literally', () => {
    expect(classifyLocally('My c++ build fails', spec).label).toBe('technical');
  });

  it('given English and French text, when classified, then the language is detected', () => {
    expect(classifyLocally('Please help me with my account, I cannot find the settings page.', spec).language).toBe('en');
    expect(classifyLocally("Bonjour, je voudrais savoir pourquoi ma facture est si élevée ce mois-ci.", spec).language).toBe('fr');
  });

  it('given angry text, when classified, then the sentiment is negative', () => {
    expect(classifyLocally('This is terrible, awful and unacceptable. I hate it.', spec).sentiment.label).toBe('negative');
  });
});
