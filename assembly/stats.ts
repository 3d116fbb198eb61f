// Reductions over whole tensors for the non-finite guard and the gradient-flow telemetry. They
// read buffers the step has already written; nothing here is on the path of a plain train_step.

/** Σ x² in float64: finite for any finite float32 data, non-finite iff some element is NaN or ±Inf. */
export function sum_squares(ptr: usize, count: i32): f64 {
  let acc: f64 = 0;
  for (let i = 0; i < count; i++) {
    const v = <f64>load<f32>(ptr + (<usize>i << 2));
    acc += v * v;
  }
  return acc;
}
