// nabla's one PRNG, specified here and mirrored bit for bit in assembly/prng.ts: xoshiro128**
// seeded through splitmix32 from (seed, stream). Every draw uses only 32-bit integer ops and
// IEEE f64 + − × ÷ √, which every JavaScript engine and wasm host computes identically, so
// weights, shuffles and masks are the same everywhere. The logarithm for normal draws is
// therefore our own (deterministicLog), not Math.log, whose last bit differs between engines.

export class Rng {
  /** s0..s3, in a typed array: 32-bit words there are stored unboxed, so a draw allocates nothing. */
  private readonly s = new Uint32Array(4);

  /** `stream` separates independent sequences of one seed (one per parameter tensor, say). */
  constructor(seed: number, stream = 0) {
    let state = (seed ^ Math.imul(stream, 0x9e3779b9)) >>> 0;
    for (let i = 0; i < 4; i++) {
      // splitmix32
      state = (state + 0x9e3779b9) >>> 0;
      let z = state;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      this.s[i] = z ^ (z >>> 16);
    }
  }

  /** xoshiro128**: a uniform 32-bit unsigned integer. */
  nextU32(): number {
    const s = this.s;
    const s0 = s[0]!;
    const s1 = s[1]!;
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    const s2 = s[2]! ^ s0;
    const s3 = s[3]! ^ s1;
    s[1] = s1 ^ s2;
    s[0] = s0 ^ s3;
    s[2] = s2 ^ t;
    s[3] = rotl(s3, 11);
    return result;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  uniform(): number {
    const a = this.nextU32() >>> 5;
    const b = this.nextU32() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }

  /** Standard normal, by Marsaglia's polar method (one value per accepted pair). */
  normal(): number {
    for (;;) {
      const u = 2 * this.uniform() - 1;
      const v = 2 * this.uniform() - 1;
      const s = u * u + v * v;
      if (s < 1 && s > 0) return u * Math.sqrt((-2 * deterministicLog(s)) / s);
    }
  }

  /** Standard normal redrawn until |z| ≤ 2 (Keras's truncated_normal). */
  truncatedNormal(): number {
    for (;;) {
      const z = this.normal();
      if (Math.abs(z) <= 2) return z;
    }
  }

  /** Uniform integer in [0, bound). */
  below(bound: number): number {
    return Math.floor(this.uniform() * bound);
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

const bits = new DataView(new ArrayBuffer(8));

/**
 * Natural log of a positive normal double, from + − × ÷ only: x = m·2^e with m in
 * [√½, √2), then log m = 2·atanh((m−1)/(m+1)) by its series, 13 terms (error < 1e-16).
 */
export function deterministicLog(x: number): number {
  bits.setFloat64(0, x);
  const hi = bits.getUint32(0);
  let e = ((hi >>> 20) & 0x7ff) - 1023;
  bits.setUint32(0, (hi & 0x000fffff) | 0x3ff00000);
  let m = bits.getFloat64(0);
  if (m > 1.4142135623730951) {
    m = m / 2;
    e = e + 1;
  }
  const f = (m - 1) / (m + 1);
  const f2 = f * f;
  let acc = 1 / 25;
  for (let k = 11; k >= 0; k--) acc = 1 / (2 * k + 1) + f2 * acc;
  return e * 0.6931471805599453 + 2 * f * acc;
}

/** Fisher–Yates shuffle of 0..n-1. */
export function permutation(n: number, rng: Rng): Uint32Array {
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = rng.below(i + 1);
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
  return order;
}
