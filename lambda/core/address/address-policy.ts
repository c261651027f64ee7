/**
 * Which IP addresses a fetch may connect to (DESIGN.md, "Address policy"). Only global
 * unicast is allowed by default; everything else is blocked with a short reason.
 */
import { isIP, isIPv4, isIPv6 } from 'node:net';
import type { IPv4, IPv6 } from 'ipaddr.js';
import ipaddr from 'ipaddr.js';
import { InvalidOptionError } from '../errors.js';

/** The caller's exemptions from the block. */
export interface AddressPolicyOptions {
  /** Lift the block entirely (tests and local use). */
  allowPrivate: boolean;
  /** CIDRs exempt from the block, like '127.0.0.0/8' or 'fd00::/8'; a bare IP means /32 or /128. */
  allow: readonly string[];
}

type Cidr = [IPv4 | IPv6, number];
/** Named CIDR lists, as ipaddr.subnetMatch takes them. */
type Ranges<T> = Record<string, [T, number][]>;

const v4 = (cidr: string): [IPv4, number] => ipaddr.IPv4.parseCIDR(cidr);
const v6 = (cidr: string): [IPv6, number] => ipaddr.IPv6.parseCIDR(cidr);

/** Blocked IPv4 ranges by reason; first match wins, so broadcast precedes 240/4. */
const IPV4_BLOCKED: Ranges<IPv4> = {
  unspecified: [v4('0.0.0.0/8')],
  loopback: [v4('127.0.0.0/8')],
  private: [v4('10.0.0.0/8'), v4('172.16.0.0/12'), v4('192.168.0.0/16')],
  'link-local': [v4('169.254.0.0/16')],
  cgnat: [v4('100.64.0.0/10')],
  multicast: [v4('224.0.0.0/4')],
  broadcast: [v4('255.255.255.255/32')],
  benchmarking: [v4('198.18.0.0/15')],
  documentation: [v4('192.0.2.0/24'), v4('198.51.100.0/24'), v4('203.0.113.0/24')],
  reserved: [v4('192.0.0.0/24'), v4('192.88.99.0/24'), v4('240.0.0.0/4')],
};

/** IPv6 ranges by name; first match wins, so the narrow ones precede the wide ones. */
const IPV6_RANGES: Ranges<IPv6> = {
  unspecified: [v6('::/128')],
  loopback: [v6('::1/128')],
  // Blocked outright whatever they embed: the OS may deliver them to IPv4 locally, and public hosts never need them.
  'ipv4-mapped': [v6('::ffff:0:0/96')],
  'ipv4-translated': [v6('::ffff:0:0:0/96')],
  'ipv4-compatible': [v6('::/96')],
  nat64: [v6('64:ff9b::/96')],
  'nat64-local': [v6('64:ff9b:1::/48')],
  discard: [v6('100::/64')],
  'unique-local': [v6('fc00::/7')],
  'link-local': [v6('fe80::/10')],
  'site-local': [v6('fec0::/10')],
  multicast: [v6('ff00::/8')],
  teredo: [v6('2001::/32')],
  benchmarking: [v6('2001:2::/48')],
  reserved: [v6('2001::/23')],
  documentation: [v6('2001:db8::/32'), v6('3fff::/20')],
  '6to4': [v6('2002::/16')],
};

const GLOBAL = 'global';
/** The only IPv6 block allocated as global unicast (RFC 4291). */
const GLOBAL_UNICAST_V6 = v6('2000::/3');

/** The IPv4 address held in 32 bits of an IPv6 address, starting at 16-bit group `at`. */
function embedded(address: IPv6, at: number, xor = 0): IPv4 {
  const hi = (address.parts[at] ?? 0) ^ xor;
  const lo = (address.parts[at + 1] ?? 0) ^ xor;
  return new ipaddr.IPv4([hi >> 8, hi & 0xff, lo >> 8, lo & 0xff]);
}

function classifyV4(address: IPv4): string | null {
  const name = ipaddr.subnetMatch(address, IPV4_BLOCKED, GLOBAL);
  return name === GLOBAL ? null : name;
}

function classifyV6(address: IPv6): string | null {
  const name = ipaddr.subnetMatch(address, IPV6_RANGES, GLOBAL);
  switch (name) {
    case GLOBAL:
      return address.match(GLOBAL_UNICAST_V6) ? null : 'reserved';
    // NAT64 (RFC 6052) and 6to4 (RFC 3056) reach the embedded IPv4, so they inherit its verdict.
    case 'nat64':
      return classifyV4(embedded(address, 6)) === null ? null : name;
    case '6to4':
      return classifyV4(embedded(address, 1)) === null ? null : name;
    // Teredo (RFC 4380): server IPv4 in groups 2-3, client IPv4 XOR-ed in groups 6-7; both must be global.
    case 'teredo':
      return classifyV4(embedded(address, 2)) === null && classifyV4(embedded(address, 6, 0xffff)) === null
        ? null
        : name;
    // Local-use NAT64 (RFC 8215) has no fixed embedding and is not globally reachable.
    case 'nat64-local':
      return 'nat64';
    default:
      return name;
  }
}

/** An IPv6 string with a dotted IPv4 tail rewritten as two hex groups. */
function hexTail(address: string): string {
  const match = /^(.*:)(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(address);
  if (!match) return address;
  const [a, b, c, d] = match.slice(2).map(Number) as [number, number, number, number];
  return `${match[1]}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
}

/** The address without its %zone, parsed strictly (dotted-quad IPv4 or IPv6), or null. */
function parseStrict(address: string): IPv4 | IPv6 | null {
  const zone = address.indexOf('%');
  const plain = zone === -1 ? address : address.slice(0, zone);
  if (isIPv4(plain)) return ipaddr.IPv4.parse(plain);
  // ipaddr.js reads '::a.b.c.d' (IPv4-compatible) as '::ffff:a.b.c.d' (mapped), so never give it a dotted tail.
  if (isIPv6(plain)) return ipaddr.IPv6.parse(hexTail(plain));
  return null;
}

const CIDR_FORM = "an IP or CIDR such as '10.0.0.0/8', '10.1.2.3', 'fd00::/8' or '::1'";

function parseAllow(entry: unknown): Cidr {
  const text = typeof entry === 'string' ? entry.trim() : '';
  const [ip = '', bits, ...rest] = text.split('/');
  const address = ip.includes('%') ? null : parseStrict(ip);
  const max = address?.kind() === 'ipv4' ? 32 : 128;
  const prefix = bits === undefined ? max : /^(0|[1-9]\d{0,2})$/.test(bits) ? Number(bits) : -1;
  if (!address || rest.length > 0 || prefix < 0 || prefix > max) {
    throw new InvalidOptionError('allow', `${JSON.stringify(entry)} is not valid; expected ${CIDR_FORM}`);
  }
  return [address, prefix];
}

/** Whether `address` falls in `cidr`; an IPv4 CIDR also covers the IPv4-mapped IPv6 form. */
function inCidr(address: IPv4 | IPv6, [network, bits]: Cidr): boolean {
  if (address.kind() === network.kind()) return address.match(network, bits);
  if (address.kind() === 'ipv6' && (address as IPv6).isIPv4MappedAddress()) {
    return (address as IPv6).toIPv4Address().match(network, bits);
  }
  if (address.kind() === 'ipv4') return (address as IPv4).toIPv4MappedAddress().match(network, bits);
  return false;
}

/** Verdicts remembered per policy; past this many distinct addresses the memory starts over. */
const VERDICT_CACHE_SIZE = 4096;

/** Decides whether fanout may connect to an IP address. */
export class AddressPolicy {
  readonly #allowPrivate: boolean;
  readonly #allow: readonly Cidr[];
  // A policy never changes, so an address's verdict never does: parsing and range matching
  // run once per distinct address, not once per request and connection.
  readonly #verdicts = new Map<string, string | null>();

  constructor(options: AddressPolicyOptions) {
    this.#allowPrivate = options.allowPrivate;
    this.#allow = (options.allow ?? []).map(parseAllow);
  }

  /** null when the address may be connected to, else a short reason such as 'loopback' or 'private'. */
  check(address: string): string | null {
    if (typeof address !== 'string') return 'unparseable';
    const known = this.#verdicts.get(address);
    if (known !== undefined) return known;
    const verdict = this.#classify(address);
    if (this.#verdicts.size >= VERDICT_CACHE_SIZE) this.#verdicts.clear();
    this.#verdicts.set(address, verdict);
    return verdict;
  }

  #classify(address: string): string | null {
    const parsed = parseStrict(address);
    // Fail closed even under allowPrivate: nothing can be connected to without a valid address.
    if (!parsed) return 'unparseable';
    if (this.#allowPrivate) return null;
    const reason = parsed.kind() === 'ipv4' ? classifyV4(parsed as IPv4) : classifyV6(parsed as IPv6);
    if (reason === null) return null;
    return this.#allow.some((cidr) => inCidr(parsed, cidr)) ? null : reason;
  }
}

/** If a URL hostname (WHATWG URL.hostname: IPv6 is bracketed) is an IP literal, the plain IP string, else null. */
export function ipLiteral(hostname: string): string | null {
  const inner = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  if (inner !== hostname) return isIPv6(inner) ? inner : null;
  return isIP(hostname) === 0 ? null : hostname;
}
