import { namedEntities } from './entities';
import { extractFields } from './field-extraction';
import { analyseSentiment } from './text-analysis';
import { untranslated } from './translation-stub';

const INVOICE =
  'Invoice INV-2024-113 from Acme Corporation to John Smith, issued 2025-03-01 and due 12 March 2025. ' +
  'Consulting: EUR 1,000.00. Travel: 250,50 EUR. Total due: EUR 1,250.50.';

describe('local field extraction', () => {
  it('given an invoice, when extracted, then amounts, the cued total, dates, references and parties are found', () => {
    const fields = extractFields(INVOICE);
    expect(fields.amounts).toEqual([
      { amount: 1000, currency: 'EUR' },
      { amount: 250.5, currency: 'EUR' },
      { amount: 1250.5, currency: 'EUR' },
    ]);
    expect(fields).toMatchObject({
      total: 1250.5,
      currency: 'EUR',
      dates: ['2025-03-01', '2025-03-12'],
      references: ['INV-2024-113'],
    });
    expect(fields.organizations).toContain('Acme Corporation');
    expect(fields.people).toContain('John Smith');
  });

  it('given no total cue, then the largest amount is the total; given no amounts, then nothing is guessed', () => {
    expect(extractFields('Paid $12.00 and $1,500 later, on March 3, 2024.')).toMatchObject({
      total: 1500,
      currency: 'USD',
      dates: ['2024-03-03'],
    });
    expect(extractFields('See PO-12 and invoice no. 4471.').references).toEqual(['PO-12', '4471']);
    expect(extractFields('Nothing to see here.')).toMatchObject({
      amounts: [],
      total: null,
      currency: null,
      dates: [],
      references: [],
    });
  });
});

describe('local entities, sentiment and the translation stand-in', () => {
  it('given names, then people, places and organisations are told apart, once each', () => {
    const entities = namedEntities('Mary Jones met Microsoft in Paris. Mary Jones left Paris.');
    expect(entities).toEqual(
      expect.arrayContaining([
        { text: 'Mary Jones', type: 'person' },
        { text: 'Paris', type: 'place' },
        { text: 'Microsoft', type: 'organization' },
      ]),
    );
    expect(entities.filter((e) => e.text === 'Paris')).toHaveLength(1);
  });

  it('given an angry and a happy text, then the labels differ', () => {
    expect(analyseSentiment('This is terrible, I am furious and disappointed.').label).toBe('negative');
    expect(analyseSentiment('Great service, thank you, I love it.').label).toBe('positive');
  });

  it('given no translation model, then the text comes back untranslated, saying so', () => {
    expect(untranslated('The invoice is overdue and must be paid this week.', 'fr')).toMatchObject({
      text: 'The invoice is overdue and must be paid this week.',
      language: 'en',
      targetLanguage: 'fr',
      translated: false,
    });
  });
});
