import { authenticate, hashApiKey, parseApiKeys } from './api-keys';

describe('API keys', () => {
  it('given plain and hashed keys, when parsed, then both authenticate to their tenant and role', () => {
    const hashed = hashApiKey('globex-secret-key-12345');
    const table = parseApiKeys(`acme:submitter:acme-secret-key-12345, globex:admin:sha256=${hashed}`);
    expect(authenticate(table, 'acme-secret-key-12345')).toMatchObject({ tenantId: 'acme', role: 'submitter' });
    expect(authenticate(table, 'globex-secret-key-12345')).toMatchObject({ tenantId: 'globex', role: 'admin' });
    expect(authenticate(table, 'guess')).toBeUndefined();
  });

  it('given a plain key, when parsed, then only its hash is kept', () => {
    const table = parseApiKeys('acme:submitter:acme-secret-key-12345');
    expect(JSON.stringify([...table])).not.toContain('acme-secret-key-12345');
  });

  it('given malformed entries, when parsed, then the error says which entry and why', () => {
    expect(() => parseApiKeys('acme:root:acme-secret-key-12345')).toThrow(/entry 1: role must be one of/);
    expect(() => parseApiKeys('acme:admin:short')).toThrow(/at least 16/);
    expect(() => parseApiKeys('acme:admin')).toThrow(/expected <tenant>:<role>:<key>/);
  });
});
