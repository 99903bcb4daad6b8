import { OutputValidator } from './output-validator';

describe('OutputValidator', () => {
  const schema = {
    type: 'object',
    required: ['reply', 'email'],
    additionalProperties: false,
    properties: { reply: { type: 'string', minLength: 3 }, email: { type: 'string', format: 'email' } },
  };
  const validator = new OutputValidator();

  it('given a conforming output, when validated, then there are no reasons', () => {
    expect(validator.validate(schema, { reply: 'hello', email: 'a@example.com' })).toEqual([]);
  });

  it('given a missing field, a bad format and an extra field, when validated, then each is a reason with a path', () => {
    const reasons = validator.validate(schema, { email: 'not-an-email', extra: 1 });
    expect(reasons.map((r) => r.code).sort()).toEqual(['SCHEMA_ADDITIONALPROPERTIES', 'SCHEMA_FORMAT', 'SCHEMA_REQUIRED']);
    expect(reasons.find((r) => r.code === 'SCHEMA_FORMAT')?.path).toBe('/email');
  });

  it('given a non-object output, when validated, then it is rejected', () => {
    expect(validator.validate(schema, 'just text')[0].code).toBe('SCHEMA_TYPE');
  });
});
