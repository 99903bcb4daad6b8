import { lookup as dnsLookup } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { classifyAddress, inV4, inV6, normalizeAddress, type AddressCategory } from './address-classifier';

export enum EgressErrorCode {
  /** The URL points at (or resolves to) an address callbacks may not reach. */
  WEBHOOK_URL_FORBIDDEN = 'WEBHOOK_URL_FORBIDDEN',
  /** The URL's host name does not resolve. */
  WEBHOOK_HOST_UNRESOLVABLE = 'WEBHOOK_HOST_UNRESOLVABLE',
}

/** Raised (and passed to a socket's lookup callback) when a destination is refused. */
export class EgressForbiddenError extends Error {
  constructor(
    readonly code: EgressErrorCode,
    message: string,
    readonly category?: AddressCategory,
  ) {
    super(message);
    this.name = 'EgressForbiddenError';
  }
}

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

type Resolver = (host: string) => Promise<ResolvedAddress[]>;

const systemResolver: Resolver = (host) =>
  new Promise((resolve, reject) =>
    dnsLookup(host, { all: true, verbatim: true }, (err, addresses) =>
      err
        ? reject(err)
        : resolve(addresses.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }))),
    ),
  );

type AllowEntry =
  | { kind: 'v4'; range: [number, number] }
  | { kind: 'v6'; range: [bigint, number] }
  | { kind: 'host'; host: string };

const HOST_NAME =
  /^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*$/;

/**
 * Which destinations outbound callbacks (webhooks) may reach: public unicast addresses only, plus an
 * explicit allowlist (`TROUPE_EGRESS_ALLOWLIST`: IPs, CIDRs or exact host names) for local targets.
 *
 * Used twice: when a job is created (refuse early, with a clear code) and when delivery connects
 * (`lookup`: the address that is checked is the one the socket connects to, so a DNS answer that
 * changes between check and connect cannot redirect the request).
 */
export class EgressPolicy {
  private readonly entries: AllowEntry[];

  constructor(
    allowlist: readonly string[] = [],
    private readonly resolver: Resolver = systemResolver,
  ) {
    this.entries = allowlist.map((raw, index) => parseEntry(raw, index));
  }

  /** From a comma-separated `TROUPE_EGRESS_ALLOWLIST`. */
  static fromSpec(spec: string | undefined, resolver?: Resolver): EgressPolicy {
    const entries = (spec ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    return new EgressPolicy(entries, resolver);
  }

  /** Refuses an address that is not public and not allowlisted; returns its category otherwise. */
  checkAddress(address: string): AddressCategory {
    const category = classifyAddress(address);
    if (category === 'public' || this.addressAllowed(address)) return category;
    throw new EgressForbiddenError(
      EgressErrorCode.WEBHOOK_URL_FORBIDDEN,
      `address ${address} is ${article(category)} ${category} address; callbacks may only reach public addresses (or ones in TROUPE_EGRESS_ALLOWLIST)`,
      category,
    );
  }

  /**
   * Checks a callback URL: scheme http(s), no credentials, and every address its host resolves to
   * allowed. Throws EgressForbiddenError with the code and the reason.
   */
  async checkUrl(url: string): Promise<void> {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new EgressForbiddenError(EgressErrorCode.WEBHOOK_URL_FORBIDDEN, 'not a valid URL');
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new EgressForbiddenError(
        EgressErrorCode.WEBHOOK_URL_FORBIDDEN,
        `scheme ${parsed.protocol} is not allowed; use http or https`,
      );
    }
    if (parsed.username || parsed.password) {
      throw new EgressForbiddenError(
        EgressErrorCode.WEBHOOK_URL_FORBIDDEN,
        'credentials in the URL are not allowed',
      );
    }
    // The URL parser has already turned decimal, octal and hex IPv4 forms into dotted quads.
    const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
    if (isIP(host)) {
      this.checkAddress(host);
      return;
    }
    await this.resolveChecked(host);
  }

  /**
   * Resolves a host once and checks every answer; an allowlisted host name is trusted as it resolves.
   * One forbidden answer refuses the host: a name that also points inside is not a public target.
   */
  async resolveChecked(hostname: string): Promise<ResolvedAddress[]> {
    const host = hostname.toLowerCase().replace(/\.$/, '');
    if (isIP(host)) {
      this.checkAddress(host);
      return [{ address: host, family: isIP(host) === 6 ? 6 : 4 }];
    }
    const named = this.hostAllowed(host);
    if (!named && (host === 'localhost' || host.endsWith('.localhost'))) {
      throw new EgressForbiddenError(
        EgressErrorCode.WEBHOOK_URL_FORBIDDEN,
        `host ${host} is a loopback name`,
        'loopback',
      );
    }
    let addresses: ResolvedAddress[];
    try {
      addresses = await this.resolver(host);
    } catch (error) {
      const code = (error as { code?: string }).code ?? 'lookup failed';
      throw new EgressForbiddenError(
        EgressErrorCode.WEBHOOK_HOST_UNRESOLVABLE,
        `host ${host} does not resolve (${code})`,
      );
    }
    if (addresses.length === 0) {
      throw new EgressForbiddenError(
        EgressErrorCode.WEBHOOK_HOST_UNRESOLVABLE,
        `host ${host} does not resolve`,
      );
    }
    if (!named) {
      for (const a of addresses) {
        try {
          this.checkAddress(a.address);
        } catch (error) {
          const e = error as EgressForbiddenError;
          throw new EgressForbiddenError(
            e.code,
            `host ${host} resolves to ${e.message.replace(/^address (\S+) is /, '$1, ')}`,
            e.category,
          );
        }
      }
    }
    return addresses;
  }

  /**
   * A `lookup` for `http.request` / `net.connect`: the socket connects only to addresses this policy
   * has just checked. (Node calls no lookup for IP-literal hosts: check those with `checkUrl` first.)
   */
  lookup(): LookupFunction {
    return ((hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
      this.resolveChecked(hostname).then(
        (addresses) => {
          if (options?.all) callback(null, addresses);
          else callback(null, addresses[0].address, addresses[0].family);
        },
        (error) => callback(error),
      );
    }) as unknown as LookupFunction;
  }

  private addressAllowed(address: string): boolean {
    const normalized = normalizeAddress(address);
    if (!normalized) return false;
    return this.entries.some((e) =>
      e.kind === 'v4' && normalized.version === 4
        ? inV4(normalized.value, e.range)
        : e.kind === 'v6' && normalized.version === 6
          ? inV6(normalized.value, e.range)
          : false,
    );
  }

  private hostAllowed(host: string): boolean {
    return this.entries.some((e) => e.kind === 'host' && e.host === host);
  }
}

/** The problem with an allowlist spec, for config validation at start-up; undefined when it is fine. */
export function allowlistProblem(spec: string): string | undefined {
  try {
    EgressPolicy.fromSpec(spec);
    return undefined;
  } catch (error) {
    return (error as Error).message.replace(/^TROUPE_EGRESS_ALLOWLIST /, '');
  }
}

function parseEntry(raw: string, index: number): AllowEntry {
  const entry = raw.trim().toLowerCase();
  const [ip, bitsText, ...rest] = entry.split('/');
  const fail = () =>
    new Error(`TROUPE_EGRESS_ALLOWLIST entry ${index + 1} (${raw}): expected an IP, a CIDR or a host name`);
  if (rest.length > 0) throw fail();
  if (isIP(ip)) {
    const normalized = normalizeAddress(ip)!;
    const max = normalized.version === 4 ? 32 : 128;
    const bits = bitsText === undefined ? max : Number(bitsText);
    if (
      !Number.isInteger(bits) ||
      bits < 0 ||
      bits > max ||
      (bitsText !== undefined && !/^\d+$/.test(bitsText))
    )
      throw fail();
    if (normalized.version === 4)
      return { kind: 'v4', range: [normalized.value, isIP(ip) === 6 ? Math.max(0, bits - 96) : bits] };
    return { kind: 'v6', range: [normalized.value, bits] };
  }
  if (bitsText === undefined && HOST_NAME.test(entry))
    return { kind: 'host', host: entry.replace(/\.$/, '') };
  throw fail();
}

const article = (word: string) => (/^[aeiou]/.test(word) ? 'an' : 'a');
