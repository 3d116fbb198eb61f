// The dropout mask of compiler/ops/dropout_mask.ts, draw for draw.
import { rng_seed, rng_uniform } from './prng';

export function dropout_mask(out: usize, step: usize, count: i32, rate: f64, seed: u32, stream: u32): void {
  // The step counter is a u32 (see compiler/codegen/counter.ts): exact past 2^24.
  rng_seed(seed, stream + load<u32>(step));
  const keep = <f32>(1.0 / (1.0 - rate));
  for (let i = 0; i < count; i++) store<f32>(out + (<usize>i << 2), rng_uniform() >= rate ? keep : <f32>0);
}
