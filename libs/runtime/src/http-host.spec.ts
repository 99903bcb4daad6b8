import { httpHost } from './bootstrap';
import { bearerMatches } from './runtime.module';

describe('the HTTP bind address', () => {
  it.each([
    [{ NODE_ENV: 'development' as const }, {}, '127.0.0.1'],
    [{ NODE_ENV: 'test' as const }, {}, '127.0.0.1'],
    [{ NODE_ENV: 'production' as const }, {}, '0.0.0.0'],
    [{ NODE_ENV: 'development' as const }, { publicHttp: true }, '0.0.0.0'],
    [{ NODE_ENV: 'development' as const, TROUPE_HTTP_HOST: '0.0.0.0' }, {}, '0.0.0.0'],
    [{ NODE_ENV: 'production' as const, TROUPE_HTTP_HOST: '10.0.0.5' }, { publicHttp: true }, '10.0.0.5'],
  ])('given %o and %o, then %s', (config, definition, host) => {
    expect(httpHost(config, definition)).toBe(host);
  });
});

describe('the metrics bearer token', () => {
  it.each([
    [undefined, false],
    ['', false],
    ['Bearer', false],
    ['Basic metrics-token-0123456789', false],
    ['Bearer metrics-token-012345678', false],
    ['Bearer metrics-token-0123456789x', false],
    ['Bearer metrics-token-0123456789', true],
    ['bearer   metrics-token-0123456789', true],
  ])('given %p, then %p', (header, ok) => {
    expect(bearerMatches(header, 'metrics-token-0123456789')).toBe(ok);
  });
});
