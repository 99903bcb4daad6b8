import { WebhookSecrets } from './webhook-secrets';

describe('WebhookSecrets', () => {
  const a = 'whsec_' + Buffer.from('a-secret-for-acme-0000').toString('base64');
  const d = 'whsec_' + Buffer.from('the-default-secret-000').toString('base64');

  it('given a tenant secret and a default, when looked up, then the tenant gets its own and others the default', () => {
    const secrets = new WebhookSecrets(`acme=${a},*=${d}`);
    expect(secrets.forTenant('acme')).toBe(a);
    expect(secrets.forTenant('globex')).toBe(d);
  });

  it('given no default, when an unknown tenant is looked up, then there is no secret', () => {
    expect(new WebhookSecrets(`acme=${a}`).forTenant('globex')).toBeUndefined();
  });

  it('given a malformed entry, when parsed, then the error names the entry without echoing the secret', () => {
    expect(() => new WebhookSecrets('acme=plaintext-secret')).toThrow(/entry 1: expected <tenant>=whsec_<base64>/);
    expect(() => new WebhookSecrets('acme=plaintext-secret')).not.toThrow(/plaintext-secret/);
  });
});
