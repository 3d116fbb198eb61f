// The four draws of compiler/init/initializers.ts, writing float32 parameters in place: the same
// f64 arithmetic in the same order, so the values are the interpreter's to the bit.
import { rng_normal, rng_seed, rng_truncated_normal, rng_uniform } from './prng';

export function init_fill(ptr: usize, count: i32, value: f32): void {
  for (let i = 0; i < count; i++) store<f32>(ptr + (<usize>i << 2), value);
}

export function init_uniform(ptr: usize, count: i32, limit: f64, center: f64, seed: u32, stream: u32): void {
  rng_seed(seed, stream);
  for (let i = 0; i < count; i++) store<f32>(ptr + (<usize>i << 2), <f32>(center + limit * (2.0 * rng_uniform() - 1.0)));
}

export function init_normal(ptr: usize, count: i32, stddev: f64, mean: f64, seed: u32, stream: u32): void {
  rng_seed(seed, stream);
  for (let i = 0; i < count; i++) store<f32>(ptr + (<usize>i << 2), <f32>(mean + stddev * rng_normal()));
}

export function init_truncated_normal(ptr: usize, count: i32, stddev: f64, mean: f64, seed: u32, stream: u32): void {
  rng_seed(seed, stream);
  for (let i = 0; i < count; i++) store<f32>(ptr + (<usize>i << 2), <f32>(mean + stddev * rng_truncated_normal()));
}
