// The PRNG of runtime/prng.ts, bit for bit: xoshiro128** seeded by splitmix32 from (seed, stream),
// uniform doubles from 53 bits, normals by Marsaglia's polar method with a log built from
// + − × ÷ only. Any change here must be made there too; test/init.test.ts checks they agree.

let s0: u32 = 0;
let s1: u32 = 0;
let s2: u32 = 0;
let s3: u32 = 0;
let mix: u32 = 0;

function splitmix32(): u32 {
  mix += 0x9e3779b9;
  let z = mix;
  z = (z ^ (z >>> 16)) * 0x85ebca6b;
  z = (z ^ (z >>> 13)) * 0xc2b2ae35;
  return z ^ (z >>> 16);
}

export function rng_seed(seed: u32, stream: u32): void {
  mix = seed ^ (stream * 0x9e3779b9);
  s0 = splitmix32();
  s1 = splitmix32();
  s2 = splitmix32();
  s3 = splitmix32();
}

export function rng_u32(): u32 {
  const result = rotl<u32>(s1 * 5, 7) * 9;
  const t = s1 << 9;
  s2 ^= s0;
  s3 ^= s1;
  s1 ^= s2;
  s0 ^= s3;
  s2 ^= t;
  s3 = rotl<u32>(s3, 11);
  return result;
}

export function rng_uniform(): f64 {
  const a = rng_u32() >>> 5;
  const b = rng_u32() >>> 6;
  return (<f64>a * 67108864.0 + <f64>b) / 9007199254740992.0;
}

function deterministic_log(x: f64): f64 {
  const bits = reinterpret<u64>(x);
  let e = <i32>((bits >>> 52) & 0x7ff) - 1023;
  let m = reinterpret<f64>((bits & 0x000fffffffffffff) | 0x3ff0000000000000);
  if (m > 1.4142135623730951) {
    m = m / 2.0;
    e = e + 1;
  }
  const f = (m - 1.0) / (m + 1.0);
  const f2 = f * f;
  let acc: f64 = 1.0 / 25.0;
  for (let k = 11; k >= 0; k--) acc = 1.0 / <f64>(2 * k + 1) + f2 * acc;
  return <f64>e * 0.6931471805599453 + 2.0 * f * acc;
}

export function rng_normal(): f64 {
  while (true) {
    const u = 2.0 * rng_uniform() - 1.0;
    const v = 2.0 * rng_uniform() - 1.0;
    const s = u * u + v * v;
    if (s < 1.0 && s > 0.0) return u * Math.sqrt((-2.0 * deterministic_log(s)) / s);
  }
  return 0;
}

export function rng_truncated_normal(): f64 {
  while (true) {
    const z = rng_normal();
    if (Math.abs(z) <= 2.0) return z;
  }
  return 0;
}
