// `-m statistic --probability` values exactly as upstream computes them:
// fmt.Sprintf("%0.10f", 1.0/float64(n)). Go rounds the exact binary value of
// the double half-to-even; JS toFixed rounds ties up (1/2048 would differ),
// so this formats from the exact value with BigInt.

const SCALE = 10n ** 10n;

/** The double's exact value as mantissa * 2^exponent. */
function decompose(x: number): { mant: bigint; exp: number } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  const rawExp = Number((bits >> 52n) & 0x7ffn);
  const frac = bits & ((1n << 52n) - 1n);
  if (rawExp === 0) return { mant: frac, exp: -1074 };
  return { mant: frac | (1n << 52n), exp: rawExp - 1075 };
}

/** Go's %0.10f for a non-negative finite number. */
export function formatFixed10(x: number): string {
  if (!(x >= 0) || !Number.isFinite(x)) throw new Error(`formatFixed10: unsupported value ${x}`);
  const { mant, exp } = decompose(x);
  let q: bigint;
  if (exp >= 0) {
    q = mant * SCALE * (1n << BigInt(exp));
  } else {
    const num = mant * SCALE;
    const den = 1n << BigInt(-exp);
    q = num / den;
    const twice = 2n * (num % den);
    if (twice > den || (twice === den && q % 2n === 1n)) q += 1n;
  }
  const whole = q / SCALE;
  const frac = (q % SCALE).toString().padStart(10, '0');
  return `${whole}.${frac}`;
}

const cache: string[] = [];

/** Upstream computeProbability(n): the chance for the first of n remaining endpoints. */
export function probability(n: number): string {
  return (cache[n] ??= formatFixed10(1 / n));
}
