import { isIP } from 'node:net';

/** Why an address may not be called; `public` is the only one that may. */
export type AddressCategory =
  | 'public'
  | 'unspecified'
  | 'loopback'
  | 'private'
  | 'shared'
  | 'link-local'
  | 'metadata'
  | 'multicast'
  | 'broadcast'
  | 'documentation'
  | 'benchmark'
  | 'reserved'
  | 'invalid';

/** An address reduced to one family: IPv4-mapped IPv6 (`::ffff:a.b.c.d`) becomes the IPv4 address it carries. */
export type NormalizedAddress = { version: 4; value: number } | { version: 6; value: bigint };

/**
 * Parses IPv4 the way `inet_aton` (and the WHATWG URL parser) does: one to four parts, each decimal,
 * octal (leading `0`) or hex (`0x`), the last part filling the remaining bytes. So `2130706433`,
 * `0x7f.1`, `0177.0.0.1` and `127.1` are all 127.0.0.1: attackers use these forms to slip past
 * string checks.
 */
export function parseIPv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length === 0 || parts.length > 4 || parts.some((p) => p === '')) return undefined;
  const values: number[] = [];
  for (const part of parts) {
    let value: number;
    if (/^0x[0-9a-f]*$/i.test(part)) value = part.length === 2 ? 0 : parseInt(part.slice(2), 16);
    else if (/^0[0-7]*$/.test(part)) value = parseInt(part, 8);
    else if (/^[1-9][0-9]*$/.test(part)) value = Number(part);
    else return undefined;
    if (!Number.isSafeInteger(value)) return undefined;
    values.push(value);
  }
  const last = values.pop()!;
  if (values.some((v) => v > 255)) return undefined;
  if (last >= 256 ** (4 - values.length)) return undefined;
  return values.reduce((acc, v, i) => acc + v * 256 ** (3 - i), 0) + last;
}

/** Parses an IPv6 address (brackets and a zone id allowed, an IPv4 tail allowed) to a 128-bit integer. */
export function parseIPv6(text: string): bigint | undefined {
  let s = text.trim().replace(/^\[(.*)\]$/, '$1');
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  if (isIP(s) !== 6) return undefined;
  const lastColon = s.lastIndexOf(':');
  const tail = s.slice(lastColon + 1);
  if (tail.includes('.')) {
    const v4 = parseIPv4Strict(tail);
    if (v4 === undefined) return undefined;
    s = `${s.slice(0, lastColon + 1)}${Math.floor(v4 / 65536).toString(16)}:${(v4 % 65536).toString(16)}`;
  }
  let groups: string[];
  if (s.includes('::')) {
    const [left, right] = s.split('::');
    const l = left ? left.split(':') : [];
    const r = right ? right.split(':') : [];
    groups = [...l, ...Array<string>(8 - l.length - r.length).fill('0'), ...r];
  } else {
    groups = s.split(':');
  }
  if (groups.length !== 8) return undefined;
  return groups.reduce((acc, g) => (acc << 16n) + BigInt(parseInt(g || '0', 16)), 0n);
}

function parseIPv4Strict(text: string): number | undefined {
  return isIP(text) === 4 ? parseIPv4(text) : undefined;
}

const v4 = (cidr: string): [number, number] => {
  const [ip, bits] = cidr.split('/');
  return [parseIPv4(ip)!, Number(bits)];
};
const v6 = (cidr: string): [bigint, number] => {
  const [ip, bits] = cidr.split('/');
  return [parseIPv6(ip)!, Number(bits)];
};

export function inV4(value: number, [base, bits]: [number, number]): boolean {
  const size = 2 ** (32 - bits);
  return Math.floor(value / size) === Math.floor(base / size);
}

export function inV6(value: bigint, [base, bits]: [bigint, number]): boolean {
  const shift = BigInt(128 - bits);
  return value >> shift === base >> shift;
}

// Order matters: the first match wins (specific before general).
const V4_RANGES: [[number, number], AddressCategory][] = [
  [v4('0.0.0.0/8'), 'unspecified'],
  [v4('10.0.0.0/8'), 'private'],
  [v4('100.100.100.200/32'), 'metadata'], // Alibaba Cloud
  [v4('100.64.0.0/10'), 'shared'], // carrier-grade NAT
  [v4('127.0.0.0/8'), 'loopback'],
  [v4('169.254.169.254/32'), 'metadata'], // AWS, GCP, Azure, OpenStack, Oracle...
  [v4('169.254.170.2/32'), 'metadata'], // AWS ECS task credentials
  [v4('169.254.0.0/16'), 'link-local'],
  [v4('172.16.0.0/12'), 'private'],
  [v4('192.0.0.0/24'), 'reserved'],
  [v4('192.0.2.0/24'), 'documentation'],
  [v4('192.88.99.0/24'), 'reserved'],
  [v4('192.168.0.0/16'), 'private'],
  [v4('198.18.0.0/15'), 'benchmark'],
  [v4('198.51.100.0/24'), 'documentation'],
  [v4('203.0.113.0/24'), 'documentation'],
  [v4('224.0.0.0/4'), 'multicast'],
  [v4('255.255.255.255/32'), 'broadcast'],
  [v4('240.0.0.0/4'), 'reserved'],
];

const V6_RANGES: [[bigint, number], AddressCategory][] = [
  [v6('::/128'), 'unspecified'],
  [v6('::1/128'), 'loopback'],
  [v6('::/96'), 'reserved'], // IPv4-compatible (deprecated)
  [v6('64:ff9b:1::/48'), 'private'], // local-use NAT64
  [v6('100::/64'), 'reserved'], // discard-only
  [v6('2001:db8::/32'), 'documentation'],
  [v6('2001::/23'), 'reserved'], // IETF protocol assignments, Teredo (which hides an IPv4 address)
  [v6('3fff::/20'), 'documentation'],
  [v6('fd00:ec2::254/128'), 'metadata'], // AWS IPv6 instance metadata
  [v6('fc00::/7'), 'private'], // unique local
  [v6('fe80::/10'), 'link-local'],
  [v6('fec0::/10'), 'reserved'], // site-local (deprecated)
  [v6('ff00::/8'), 'multicast'],
];
const GLOBAL_UNICAST = v6('2000::/3');
const MAPPED = v6('::ffff:0:0/96');
const NAT64 = v6('64:ff9b::/96');
const SIX_TO_FOUR = v6('2002::/16');

/** Parses any textual address form; IPv4 inside IPv6 (mapped, NAT64, 6to4) is unwrapped to IPv4. */
export function normalizeAddress(text: string): NormalizedAddress | undefined {
  const trimmed = text.trim();
  const asV4 = trimmed.includes(':') ? undefined : parseIPv4(trimmed);
  if (asV4 !== undefined) return { version: 4, value: asV4 };
  const asV6 = parseIPv6(trimmed);
  if (asV6 === undefined) return undefined;
  if (inV6(asV6, MAPPED) || inV6(asV6, NAT64)) return { version: 4, value: Number(asV6 & 0xffffffffn) };
  if (inV6(asV6, SIX_TO_FOUR)) return { version: 4, value: Number((asV6 >> 80n) & 0xffffffffn) };
  return { version: 6, value: asV6 };
}

/** What kind of address this is; only `public` addresses may be reached by callbacks. */
export function classifyAddress(text: string): AddressCategory {
  const address = normalizeAddress(text);
  if (!address) return 'invalid';
  if (address.version === 4) {
    for (const [range, category] of V4_RANGES) if (inV4(address.value, range)) return category;
    return 'public';
  }
  for (const [range, category] of V6_RANGES) if (inV6(address.value, range)) return category;
  return inV6(address.value, GLOBAL_UNICAST) ? 'public' : 'reserved';
}
