import {
  allowlistProblem,
  EgressErrorCode,
  EgressForbiddenError,
  EgressPolicy,
  type ResolvedAddress,
} from './egress-policy';

/** A resolver with scripted answers, standing in for DNS (which tests cannot control). */
function scripted(answers: Record<string, ResolvedAddress[] | Error | (() => ResolvedAddress[])>) {
  return async (host: string) => {
    const answer = answers[host];
    if (answer === undefined) throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
    if (answer instanceof Error) throw answer;
    return typeof answer === 'function' ? answer() : answer;
  };
}
const a = (address: string): ResolvedAddress => ({ address, family: address.includes(':') ? 6 : 4 });

async function refusal(policy: EgressPolicy, url: string) {
  const error = await policy.checkUrl(url).then(
    () => undefined,
    (e: unknown) => e,
  );
  return error instanceof EgressForbiddenError ? { code: error.code, message: error.message } : error;
}

describe('EgressPolicy.checkUrl', () => {
  const policy = new EgressPolicy(
    [],
    scripted({
      'hooks.example.com': [a('93.184.216.34')],
      'internal.example.com': [a('10.0.0.5')],
      'mixed.example.com': [a('93.184.216.34'), a('127.0.0.1')],
      'v6.example.com': [a('::ffff:169.254.169.254')],
      'metadata.google.internal': [a('169.254.169.254')],
    }),
  );

  it.each([
    'http://127.0.0.1:4000/webhooks',
    'http://2130706433/',
    'http://0x7f.0.0.1/',
    'http://0177.0.0.1/',
    'http://127.1/',
    'http://[::1]/',
    'http://[::ffff:127.0.0.1]/',
    'http://[::ffff:7f00:1]/',
    'http://0.0.0.0/',
    'http://10.0.0.1/',
    'http://192.168.0.10/',
    'http://169.254.169.254/latest/meta-data/',
    'http://0xa9fea9fe/',
    'http://[fe80::1]/',
    'http://[fd00:ec2::254]/',
    'http://localhost:3000/',
    'http://api.localhost/',
    'http://internal.example.com/hook',
    'http://mixed.example.com/hook', // one answer inside is enough to refuse
    'http://v6.example.com/hook',
    'http://metadata.google.internal/computeMetadata/v1/',
    'ftp://hooks.example.com/',
    'file:///etc/passwd',
    'https://user:secret@hooks.example.com/',
  ])('given %s, when checked, then it is refused with WEBHOOK_URL_FORBIDDEN', async (url) => {
    expect(await refusal(policy, url)).toMatchObject({ code: EgressErrorCode.WEBHOOK_URL_FORBIDDEN });
  });

  it('given a refusal, then the message says which address and why, without the URL path or query', async () => {
    const r = (await refusal(policy, 'http://internal.example.com/hook?token=s3cr3t')) as { message: string };
    expect(r.message).toMatch(/internal\.example\.com resolves to 10\.0\.0\.5, a private address;/);
    expect(r.message).not.toMatch(/s3cr3t/);
  });

  it('given a host that does not resolve, then it is WEBHOOK_HOST_UNRESOLVABLE', async () => {
    expect(await refusal(policy, 'https://nowhere.example.com/')).toMatchObject({
      code: EgressErrorCode.WEBHOOK_HOST_UNRESOLVABLE,
    });
  });

  it('given public targets, then they pass', async () => {
    await expect(policy.checkUrl('https://hooks.example.com/troupe')).resolves.toBeUndefined();
    await expect(policy.checkUrl('http://8.8.8.8/')).resolves.toBeUndefined();
    await expect(policy.checkUrl('http://[2606:4700:4700::1111]/')).resolves.toBeUndefined();
  });
});

describe('EgressPolicy allowlist', () => {
  const resolver = scripted({ 'receiver.internal': [a('10.1.2.3')], 'other.internal': [a('10.1.2.4')] });

  it('given allowlisted IPs, CIDRs and host names, then exactly those local targets pass', async () => {
    const policy = EgressPolicy.fromSpec('127.0.0.1, ::1, 192.168.10.0/24, receiver.internal', resolver);
    await expect(policy.checkUrl('http://127.0.0.1:4000/webhooks')).resolves.toBeUndefined();
    await expect(policy.checkUrl('http://[::ffff:127.0.0.1]:4000/')).resolves.toBeUndefined(); // same address
    await expect(policy.checkUrl('http://[::1]/')).resolves.toBeUndefined();
    await expect(policy.checkUrl('http://192.168.10.77/')).resolves.toBeUndefined();
    await expect(policy.checkUrl('http://receiver.internal/')).resolves.toBeUndefined();
    expect(await refusal(policy, 'http://127.0.0.2/')).toMatchObject({ code: 'WEBHOOK_URL_FORBIDDEN' });
    expect(await refusal(policy, 'http://192.168.11.1/')).toMatchObject({ code: 'WEBHOOK_URL_FORBIDDEN' });
    expect(await refusal(policy, 'http://other.internal/')).toMatchObject({ code: 'WEBHOOK_URL_FORBIDDEN' });
    expect(await refusal(policy, 'http://169.254.169.254/')).toMatchObject({ code: 'WEBHOOK_URL_FORBIDDEN' });
  });

  it('given a malformed entry, then the policy refuses to start and names the entry', () => {
    expect(() => EgressPolicy.fromSpec('127.0.0.1,10.0.0.0/33')).toThrow(/entry 2 \(10\.0\.0\.0\/33\)/);
    expect(() => EgressPolicy.fromSpec('http://x/')).toThrow(/entry 1/);
  });
});

describe('EgressPolicy.lookup (connect time)', () => {
  it('given a DNS answer that changes between check and connect, then the socket gets only the address checked at connect', async () => {
    let calls = 0;
    // First answer public, then a rebinding attack answers loopback.
    const policy = new EgressPolicy(
      [],
      scripted({ 'rebind.example.com': () => [a(++calls === 1 ? '93.184.216.34' : '127.0.0.1')] }),
    );
    await expect(policy.checkUrl('http://rebind.example.com/')).resolves.toBeUndefined();
    const lookup = policy.lookup();
    const result = await new Promise<{ err: unknown; address?: unknown }>((resolve) =>
      (lookup as unknown as (h: string, o: object, cb: (err: unknown, address?: unknown) => void) => void)(
        'rebind.example.com',
        { all: true },
        (err, address) => resolve({ err, address }),
      ),
    );
    expect(result.err).toBeInstanceOf(EgressForbiddenError);
    expect(result.address).toBeUndefined();
  });

  it('given a public answer, then lookup hands exactly the checked addresses to the socket, in both callback shapes', async () => {
    const policy = new EgressPolicy([], scripted({ 'hooks.example.com': [a('93.184.216.34')] }));
    const lookup = policy.lookup() as unknown as (
      h: string,
      o: object,
      cb: (...args: unknown[]) => void,
    ) => void;
    const all = await new Promise<unknown[]>((resolve) =>
      lookup('hooks.example.com', { all: true }, (...args) => resolve(args)),
    );
    expect(all).toEqual([null, [{ address: '93.184.216.34', family: 4 }]]);
    const one = await new Promise<unknown[]>((resolve) =>
      lookup('hooks.example.com', {}, (...args) => resolve(args)),
    );
    expect(one).toEqual([null, '93.184.216.34', 4]);
  });
});

describe('allowlistProblem', () => {
  it('given a spec, then only a malformed one has a problem, naming the entry', () => {
    expect(allowlistProblem('127.0.0.1, ::1, 10.0.0.0/8, receiver.internal')).toBeUndefined();
    expect(allowlistProblem('')).toBeUndefined();
    expect(allowlistProblem('127.0.0.1,300.1.1.1/8')).toMatch(/^entry 2 \(300\.1\.1\.1\/8\)/);
  });
});
