// ClusterIP and NodePort allocators with upstream's bitmap semantics
// (pkg/registry/core/service/ipallocator, portallocator, allocator/bitmap.go):
//  - the IPv4 range skips the network and broadcast addresses (IPv6 ranges are
//    capped at 65536 entries);
//  - dynamic allocation (KEP-3070 / KEP-3668 static subranges) picks a random
//    free entry from the upper band first, so the lower band stays free for
//    addresses people pick by hand: kubeadm's 10.96.0.1 (kubernetes) and
//    10.96.0.10 (kube-dns) live there;
//  - the reasons are upstream's texts; service-strategy.ts wraps them into the
//    Invalid errors a learner sees.
import { bigToIP, cidrSize, cidrString, ipFamily, ipToBig, normalizeIP, parseCidr, type Cidr } from '../util/cidr.ts';

export type AllocationFailure = 'allocated' | 'notInRange' | 'full';

export class AllocationError extends Error {
  override name = 'AllocationError';
  constructor(readonly failure: AllocationFailure, message: string) {
    super(message);
  }
}

/** A small seeded PRNG (mulberry32), so a lab can ask for reproducible allocations. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A set of offsets [0, max) with upstream's randomScanStrategyWithOffset. */
class OffsetBitmap {
  private readonly used = new Set<number>();
  constructor(
    readonly max: number,
    /** Size of the static (lower) band that dynamic allocation only uses when the upper band is full. */
    readonly offset: number,
    private readonly rand: () => number,
  ) {}

  has(i: number): boolean {
    return this.used.has(i);
  }

  /** Returns false if already taken. */
  take(i: number): boolean {
    if (this.used.has(i)) return false;
    this.used.add(i);
    return true;
  }

  release(i: number): void {
    this.used.delete(i);
  }

  get count(): number {
    return this.used.size;
  }

  next(): number | undefined {
    if (this.used.size >= this.max) return undefined;
    const scan = (lo: number, size: number): number | undefined => {
      if (size <= 0) return undefined;
      const start = Math.floor(this.rand() * size);
      for (let i = 0; i < size; i++) {
        const at = lo + ((start + i) % size);
        if (!this.used.has(at)) return at;
      }
      return undefined;
    };
    return scan(this.offset, this.max - this.offset) ?? scan(0, this.offset);
  }
}

/** Upstream's calculateRangeOffset: min(max(min, size/step), max), 0 for tiny ranges. */
function rangeOffset(size: number, min: number, max: number, step: number): number {
  if (size <= min) return 0;
  return Math.min(Math.max(min, Math.floor(size / step)), max);
}

export class ClusterIPAllocator {
  readonly cidr: Cidr;
  readonly cidrText: string;
  private readonly base: bigint;
  private readonly bitmap: OffsetBitmap;

  constructor(cidr: string, rand: () => number = Math.random) {
    this.cidr = parseCidr(cidr);
    this.cidrText = cidrString(this.cidr);
    const size = cidrSize(this.cidr);
    let max = Number(size > 1n << 32n ? 1n << 32n : size);
    if (this.cidr.family === 6) max = Math.min(max, 65536);
    else max -= 1; // never the broadcast address
    max -= 1; // never the network address
    this.base = ipToBig(this.cidr.ip) + 1n;
    const total = Number(size > 1n << 32n ? 1n << 32n : size);
    this.bitmap = new OffsetBitmap(Math.max(0, max), rangeOffset(total, 16, 256, 16), rand);
  }

  private offsetOf(ip: string): number | undefined {
    if (ipFamily(ip) !== this.cidr.family) return undefined;
    const off = ipToBig(ip) - this.base;
    return off < 0n || off >= BigInt(this.bitmap.max) ? undefined : Number(off);
  }

  /** Reserves a specific address (a user's spec.clusterIP). */
  allocate(ip: string): void {
    const off = this.offsetOf(ip);
    if (off === undefined) {
      throw new AllocationError('notInRange', `the provided IP (${normalizeIP(ip) || ip}) is not in the valid range. The range of valid IPs is ${this.cidrText}`);
    }
    if (!this.bitmap.take(off)) throw new AllocationError('allocated', 'provided IP is already allocated');
  }

  allocateNext(): string {
    const off = this.bitmap.next();
    if (off === undefined) throw new AllocationError('full', 'range is full');
    this.bitmap.take(off);
    return bigToIP(this.base + BigInt(off), this.cidr.family);
  }

  release(ip: string): void {
    const off = this.offsetOf(ip);
    if (off !== undefined) this.bitmap.release(off);
  }

  has(ip: string): boolean {
    const off = this.offsetOf(ip);
    return off !== undefined && this.bitmap.has(off);
  }

  get used(): number {
    return this.bitmap.count;
  }

  /** The first usable address (the `kubernetes` Service's) and the n-th (kube-dns is the 10th). */
  nth(n: number): string {
    return bigToIP(this.base + BigInt(n - 1), this.cidr.family);
  }
}

export interface PortRange {
  base: number;
  size: number;
}

/** Parses "30000-32767" or upstream's other form "30000+2768". */
export function parsePortRange(text: string): PortRange {
  const t = text.trim();
  let m = t.match(/^(\d+)-(\d+)$/);
  if (m) {
    const [lo, hi] = [Number(m[1]), Number(m[2])];
    if (lo <= hi && hi <= 65535) return { base: lo, size: hi - lo + 1 };
  }
  m = t.match(/^(\d+)\+(\d+)$/);
  if (m && Number(m[1]) + Number(m[2]) - 1 <= 65535) return { base: Number(m[1]), size: Number(m[2]) };
  throw new Error(`"${text}" is not a port range (expected like 30000-32767)`);
}

export function portRangeString(r: PortRange): string {
  return `${r.base}-${r.base + r.size - 1}`;
}

export class NodePortAllocator {
  readonly rangeText: string;
  private readonly bitmap: OffsetBitmap;

  constructor(readonly range: PortRange, rand: () => number = Math.random) {
    this.rangeText = portRangeString(range);
    this.bitmap = new OffsetBitmap(range.size, rangeOffset(range.size, 16, 128, 32), rand);
  }

  allocate(port: number): void {
    const off = port - this.range.base;
    if (!Number.isInteger(port) || off < 0 || off >= this.range.size) {
      throw new AllocationError('notInRange', `provided port is not in the valid range. The range of valid ports is ${this.rangeText}`);
    }
    if (!this.bitmap.take(off)) throw new AllocationError('allocated', 'provided port is already allocated');
  }

  allocateNext(): number {
    const off = this.bitmap.next();
    if (off === undefined) throw new AllocationError('full', 'range is full');
    this.bitmap.take(off);
    return this.range.base + off;
  }

  release(port: number): void {
    const off = port - this.range.base;
    if (off >= 0 && off < this.range.size) this.bitmap.release(off);
  }

  has(port: number): boolean {
    return this.bitmap.has(port - this.range.base);
  }

  get used(): number {
    return this.bitmap.count;
  }
}
