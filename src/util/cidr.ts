// IPv4/IPv6 address and CIDR math: one implementation for lab validation, the
// control plane's allocators, the CNI slices and the proxy's normalisation.
import { isIPv4, isIPv6 } from 'node:net';

export interface Cidr {
  /** Network address, normalised. */
  ip: string;
  prefix: number;
  family: 4 | 6;
}

/** Normalises an IP the way Go's netip does for kube-proxy: "10.180.00.001" -> "10.180.0.1". Returns "" if invalid. */
export function normalizeIP(ip: string): string {
  const s = ip.trim();
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(s)) {
    const parts = s.split('.').map((p) => parseInt(p, 10));
    return parts.every((p) => p <= 255) ? parts.join('.') : '';
  }
  if (isIPv6(s)) return bigToIPv6(ipv6ToBig(s));
  return '';
}

export function ipFamily(ip: string): 4 | 6 | 0 {
  const n = normalizeIP(ip);
  return n === '' ? 0 : isIPv4(n) ? 4 : 6;
}

export function ipToBig(ip: string): bigint {
  const n = normalizeIP(ip);
  if (!n) throw new Error(`invalid IP address "${ip}"`);
  if (isIPv4(n)) return n.split('.').reduce((acc, p) => (acc << 8n) + BigInt(p), 0n);
  return ipv6ToBig(n);
}

export function bigToIP(v: bigint, family: 4 | 6): string {
  if (family === 4) return [24n, 16n, 8n, 0n].map((s) => String((v >> s) & 255n)).join('.');
  return bigToIPv6(v);
}

function ipv6ToBig(ip: string): bigint {
  let s = ip;
  // Embedded IPv4 tail ("::ffff:1.2.3.4").
  const v4 = s.match(/(\d+\.\d+\.\d+\.\d+)$/);
  if (v4) {
    const n = ipToBig(v4[1]);
    s = s.slice(0, -v4[1].length) + ((n >> 16n) & 0xffffn).toString(16) + ':' + (n & 0xffffn).toString(16);
  }
  const [head, tail] = s.includes('::') ? s.split('::') : [s, undefined];
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return groups.reduce((acc, g) => (acc << 16n) + BigInt(parseInt(g || '0', 16)), 0n);
}

function bigToIPv6(v: bigint): string {
  const groups = Array.from({ length: 8 }, (_, i) => Number((v >> BigInt((7 - i) * 16)) & 0xffffn));
  // RFC 5952: compress the longest run (>= 2) of zero groups.
  let best = -1, bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) { best = i; bestLen = j - i; }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

/** Parses "a.b.c.d/n"; throws with a message naming the problem. Host bits must be zero unless `allowHostBits`. */
export function parseCidr(text: string, allowHostBits = false): Cidr {
  const m = String(text).trim().match(/^([^/]+)\/(\d{1,3})$/);
  if (!m) throw new Error(`"${text}" is not a CIDR (expected address/prefix, like 10.96.0.0/12)`);
  const family = ipFamily(m[1]);
  if (!family) throw new Error(`"${text}" is not a CIDR: "${m[1]}" is not an IP address`);
  const prefix = Number(m[2]);
  const bits = family === 4 ? 32 : 128;
  if (prefix > bits) throw new Error(`"${text}" is not a CIDR: prefix /${prefix} is longer than ${bits} bits`);
  const v = ipToBig(m[1]);
  const net = v & maskOf(prefix, bits);
  if (net !== v && !allowHostBits) {
    throw new Error(`"${text}" has host bits set; the network is ${bigToIP(net, family)}/${prefix}`);
  }
  return { ip: bigToIP(net, family), prefix, family };
}

function maskOf(prefix: number, bits: number): bigint {
  const all = (1n << BigInt(bits)) - 1n;
  return (all << BigInt(bits - prefix)) & all;
}

export function cidrString(c: Cidr): string {
  return `${c.ip}/${c.prefix}`;
}

export function cidrBits(c: Cidr): number {
  return c.family === 4 ? 32 : 128;
}

/** Number of addresses in the range. */
export function cidrSize(c: Cidr): bigint {
  return 1n << BigInt(cidrBits(c) - c.prefix);
}

export function firstIP(c: Cidr): bigint {
  return ipToBig(c.ip);
}

export function lastIP(c: Cidr): bigint {
  return firstIP(c) + cidrSize(c) - 1n;
}

/** The n-th address of the range (0 = network address). */
export function nthIP(c: Cidr, n: number | bigint): string {
  const v = firstIP(c) + BigInt(n);
  if (v > lastIP(c)) throw new Error(`${cidrString(c)} has no address number ${n}`);
  return bigToIP(v, c.family);
}

export function cidrContains(c: Cidr, ip: string): boolean {
  if (ipFamily(ip) !== c.family) return false;
  const v = ipToBig(ip);
  return v >= firstIP(c) && v <= lastIP(c);
}

/** The overlapping span of two ranges, or undefined. */
export function cidrOverlap(a: Cidr, b: Cidr): Cidr | undefined {
  if (a.family !== b.family) return undefined;
  const inner = a.prefix >= b.prefix ? a : b;
  const outer = inner === a ? b : a;
  return cidrContains(outer, inner.ip) ? inner : undefined;
}

/** The i-th subnet of length `prefix` inside `c` (per-node pod CIDR slices). */
export function subnet(c: Cidr, prefix: number, i: number): Cidr {
  if (prefix < c.prefix) throw new Error(`/${prefix} is larger than ${cidrString(c)}`);
  const count = 1n << BigInt(prefix - c.prefix);
  if (BigInt(i) >= count) throw new Error(`${cidrString(c)} has only ${count} /${prefix} subnets`);
  const v = firstIP(c) + BigInt(i) * (1n << BigInt(cidrBits(c) - prefix));
  return { ip: bigToIP(v, c.family), prefix, family: c.family };
}
