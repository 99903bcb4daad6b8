import { classifyAddress, parseIPv4, parseIPv6 } from './address-classifier';

describe('parseIPv4', () => {
  it.each([
    ['127.0.0.1', 0x7f000001],
    ['2130706433', 0x7f000001], // decimal
    ['0x7f000001', 0x7f000001], // hex
    ['0x7f.1', 0x7f000001],
    ['0177.0.0.1', 0x7f000001], // octal
    ['0177.0.0.01', 0x7f000001],
    ['127.1', 0x7f000001],
    ['127.0.1', 0x7f000001],
    ['017700000001', 0x7f000001],
    ['0xA9.0xFE.0xA9.0xFE', 0xa9fea9fe],
  ])('given %s, then it is the same 32-bit address as its dotted form', (text, value) => {
    expect(parseIPv4(text)).toBe(value);
  });

  it.each(['256.0.0.1', '1.2.3.4.5', '08.1.1.1', 'abc', '1..2', '', '4294967296', '1.2.3.256'])(
    'given %s, then it is not an address',
    (text) => {
      expect(parseIPv4(text)).toBeUndefined();
    },
  );
});

describe('parseIPv6', () => {
  it('given the forms of one address, then they parse equal, brackets, zones and IPv4 tails included', () => {
    const one = parseIPv6('::ffff:7f00:1');
    expect(parseIPv6('[::ffff:127.0.0.1]')).toBe(one);
    expect(parseIPv6('0:0:0:0:0:ffff:127.0.0.1')).toBe(one);
    expect(parseIPv6('fe80::1%eth0')).toBe(parseIPv6('fe80:0:0:0:0:0:0:1'));
    expect(parseIPv6('not:an:address')).toBeUndefined();
  });
});

describe('classifyAddress', () => {
  it.each([
    // loopback in every spelling
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['2130706433', 'loopback'],
    ['0x7f.0.0.1', 'loopback'],
    ['0177.0.0.1', 'loopback'],
    ['127.1', 'loopback'],
    ['::1', 'loopback'],
    ['[::1]', 'loopback'],
    ['0:0:0:0:0:0:0:1', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'], // IPv4-mapped IPv6
    ['::ffff:7f00:1', 'loopback'],
    ['[::ffff:7f00:1]', 'loopback'],
    ['64:ff9b::7f00:1', 'loopback'], // NAT64
    ['2002:7f00:1::', 'loopback'], // 6to4
    // unspecified
    ['0.0.0.0', 'unspecified'],
    ['0', 'unspecified'],
    ['::', 'unspecified'],
    // private
    ['10.0.0.1', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['0xc0a80101', 'private'],
    ['::ffff:10.1.2.3', 'private'],
    ['fd12:3456::1', 'private'],
    ['fc00::1', 'private'],
    ['100.64.0.1', 'shared'],
    // link-local and cloud metadata
    ['169.254.1.1', 'link-local'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['169.254.169.254', 'metadata'],
    ['2852039166', 'metadata'], // 169.254.169.254 in decimal
    ['0xa9fea9fe', 'metadata'],
    ['0251.0376.0251.0376', 'metadata'],
    ['::ffff:169.254.169.254', 'metadata'],
    ['169.254.170.2', 'metadata'],
    ['100.100.100.200', 'metadata'],
    ['fd00:ec2::254', 'metadata'],
    // everything else that is not public
    ['224.0.0.1', 'multicast'],
    ['ff02::1', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['240.0.0.1', 'reserved'],
    ['192.0.2.10', 'documentation'],
    ['198.51.100.7', 'documentation'],
    ['203.0.113.9', 'documentation'],
    ['2001:db8::1', 'documentation'],
    ['198.18.0.1', 'benchmark'],
    ['::127.0.0.1', 'reserved'], // IPv4-compatible
    ['2001::1', 'reserved'], // Teredo
    ['fec0::1', 'reserved'],
    ['100::1', 'reserved'],
    ['4000::1', 'reserved'], // outside global unicast
    ['not-an-ip', 'invalid'],
    // public
    ['8.8.8.8', 'public'],
    ['1.1.1.1', 'public'],
    ['172.32.0.1', 'public'],
    ['192.169.0.1', 'public'],
    ['100.128.0.1', 'public'],
    ['134744072', 'public'], // 8.8.8.8 in decimal
    ['::ffff:8.8.8.8', 'public'],
    ['2606:4700:4700::1111', 'public'],
    ['2a00:1450:4001:80b::200e', 'public'],
  ])('given %s, then it is %s', (address, category) => {
    expect(classifyAddress(address)).toBe(category);
  });
});
