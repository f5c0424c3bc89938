// Generated names as upstream makes them: metadata.generateName's 5-character
// suffix and the Deployment controller's pod-template-hash, both drawn from
// apimachinery's "safe" alphabet (no vowels, no 0/1/3, so no words or look-alikes).
const ALPHANUMS = 'bcdfghjklmnpqrstvwxz2456789';

/** k8s.io/apimachinery/pkg/util/rand.String(n). */
export function randomSuffix(n = 5, rand: () => number = Math.random): string {
  let s = '';
  for (let i = 0; i < n; i++) s += ALPHANUMS[Math.floor(rand() * ALPHANUMS.length)];
  return s;
}

/** rand.SafeEncodeString: maps each byte of `s` into the safe alphabet. */
export function safeEncode(s: string): string {
  return [...Buffer.from(s)].map((b) => ALPHANUMS[b % ALPHANUMS.length]).join('');
}

function fnv32a(data: Buffer): number {
  let h = 0x811c9dc5;
  for (const b of data) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** JSON with sorted keys, so the same template always hashes the same. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o).filter((k) => o[k] !== undefined).sort().map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

/**
 * The pod-template-hash label value. Upstream (controller.ComputeHash) hashes
 * a spew dump of the template with FNV-32a and safe-encodes the decimal number,
 * which is why real hashes look like "7c5ddbdf54"; we hash a canonical JSON
 * dump instead, so values differ from a real cluster's but have the same shape.
 */
export function podTemplateHash(template: unknown, collisionCount = 0): string {
  const data = Buffer.from(canonical(template) + (collisionCount ? String(collisionCount) : ''));
  return safeEncode(String(fnv32a(data)));
}
