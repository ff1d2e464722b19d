/**
 * Whether a URL's host is one the worker should send requests to on someone's behalf (webhooks):
 * a public name or a public IP address. An address inside a network (loopback, RFC 1918, link-local,
 * carrier-grade NAT, IPv6 unique-local …) or a cloud's metadata service would let whoever holds the
 * server key make the worker call what only its own network can reach, and read back how it
 * answers. Names are judged by what they say, not by what they resolve to (a Worker cannot resolve
 * them first): a public name that resolves to a private address is beyond this check.
 *
 * `url.hostname` is what WHATWG's URL parser made of the host: IPv4 in every numeric form it
 * accepts (127.1, 0x7f000001, 2130706433, 0177.0.0.1) is already dotted-decimal, IPv6 is bracketed
 * and compressed, names are lowercased and punycoded. This module relies on that normal form.
 */

export type HostKind = 'public' | 'loopback' | 'internal';

/** Names that are a machine's own or a cloud's metadata service, whatever they resolve to. */
const INTERNAL_NAMES = new Set([
  'localhost',
  'metadata',
  'metadata.google.internal',
  'metadata.goog',
  'instance-data',
  'instance-data.ec2.internal',
]);
/** Suffixes reserved for names that never leave a site: RFC 6761 (.localhost), mDNS (.local), ICANN's .internal, RFC 8375 (.home.arpa). */
const INTERNAL_SUFFIXES = ['.localhost', '.local', '.internal', '.home.arpa'];

/** IPv4 ranges that are not a public unicast address: [first address, prefix length, what it is]. */
const IPV4_RANGES: [string, number, string][] = [
  ['0.0.0.0', 8, 'an unspecified address'],
  ['10.0.0.0', 8, 'a private address'],
  ['100.64.0.0', 10, 'a carrier-grade NAT address'],
  ['127.0.0.0', 8, 'a loopback address'],
  ['169.254.0.0', 16, 'a link-local address'],
  ['172.16.0.0', 12, 'a private address'],
  ['192.0.0.0', 24, 'an IETF protocol address'],
  ['192.168.0.0', 16, 'a private address'],
  ['198.18.0.0', 15, 'a benchmarking address'],
  ['224.0.0.0', 4, 'a multicast address'],
  ['240.0.0.0', 4, 'a reserved address'],
];

const ipv4Number = (dotted: string): number => dotted.split('.').reduce((n, part) => n * 256 + Number(part), 0);

/** What an IPv4 address (as a 32-bit number) is, when it is not public. */
function ipv4Problem(address: number): { kind: HostKind; what: string } | null {
  for (const [first, prefix, what] of IPV4_RANGES) {
    const size = 2 ** (32 - prefix);
    if (Math.floor(address / size) === Math.floor(ipv4Number(first) / size))
      return { kind: first === '127.0.0.0' ? 'loopback' : 'internal', what };
  }
  return null;
}

/** The 8 groups of a WHATWG-serialised IPv6 address (bracketed, compressed, hex only), or null. */
function ipv6Groups(hostname: string): number[] | null {
  const inner = /^\[([0-9a-f:]+)\]$/.exec(hostname)?.[1];
  if (!inner) return null;
  const [head = '', tail] = inner.split('::');
  const parse = (s: string) => (s === '' ? [] : s.split(':').map((g) => parseInt(g, 16)));
  const left = parse(head);
  const right = tail === undefined ? [] : parse(tail);
  const groups = tail === undefined ? left : [...left, ...Array<number>(8 - left.length - right.length).fill(0), ...right];
  return groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : null;
}

function ipv6Problem(g: number[]): { kind: HostKind; what: string } | null {
  const [g0 = 0, g1 = 0, g2 = 0, g3 = 0, g4 = 0, g5 = 0, g6 = 0, g7 = 0] = g;
  const embedded = (hi: number, lo: number) => ipv4Problem(hi * 65536 + lo);
  if (g.every((x) => x === 0)) return { kind: 'internal', what: 'an unspecified address' };
  if (g.slice(0, 7).every((x) => x === 0) && g7 === 1) return { kind: 'loopback', what: 'a loopback address' };
  // An IPv4 address inside IPv6: mapped (::ffff:a.b.c.d), compatible (::a.b.c.d), translated
  // (::ffff:0:a.b.c.d), NAT64 (64:ff9b::a.b.c.d), 6to4 (2002:aabb:ccdd::). The rest of ::/64 is reserved.
  if (g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0) {
    if (!((g4 === 0 && (g5 === 0xffff || g5 === 0)) || (g4 === 0xffff && g5 === 0)))
      return { kind: 'internal', what: 'a reserved address' };
    const v4 = embedded(g6, g7);
    return v4 ? { kind: 'internal', what: `${v4.what} inside an IPv6 address` } : null;
  }
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0) {
    const v4 = embedded(g6, g7);
    return v4 ? { kind: 'internal', what: `${v4.what} inside an IPv6 address` } : null;
  }
  if (g0 === 0x2002) {
    const v4 = embedded(g1, g2);
    return v4 ? { kind: 'internal', what: `${v4.what} inside an IPv6 address` } : null;
  }
  if ((g0 & 0xfe00) === 0xfc00) return { kind: 'internal', what: 'a unique local address' };
  if ((g0 & 0xffc0) === 0xfe80) return { kind: 'internal', what: 'a link-local address' };
  if ((g0 & 0xffc0) === 0xfec0) return { kind: 'internal', what: 'a site-local address' };
  if ((g0 & 0xff00) === 0xff00) return { kind: 'internal', what: 'a multicast address' };
  return null;
}

/**
 * What a parsed URL's host is: `public`, `loopback` (an IP literal of this machine: 127.0.0.0/8 or
 * [::1]), or `internal` (anything else a public receiver cannot be), with a few words saying why.
 */
export function classifyHost(url: URL): { kind: HostKind; what: string } {
  const hostname = url.hostname.replace(/\.+$/, '');
  if (/^\d+\.\d+\.\d+\.\d+$/.test(hostname)) return ipv4Problem(ipv4Number(hostname)) ?? { kind: 'public', what: 'a public address' };
  if (hostname.startsWith('[')) {
    const groups = ipv6Groups(hostname);
    if (!groups) return { kind: 'internal', what: 'an IPv6 address that cannot be read' };
    return ipv6Problem(groups) ?? { kind: 'public', what: 'a public address' };
  }
  if (INTERNAL_NAMES.has(hostname) || INTERNAL_SUFFIXES.some((s) => hostname.endsWith(s)))
    return { kind: 'internal', what: 'a local or metadata name' };
  // A name without a dot resolves, if at all, through a local search domain: never a public receiver.
  if (!hostname.includes('.')) return { kind: 'internal', what: 'a name without a domain' };
  return { kind: 'public', what: 'a public name' };
}
