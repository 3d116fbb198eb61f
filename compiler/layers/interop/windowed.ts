// The convolutions and poolings as PyTorch and ONNX compute them: channels first, where nabla's
// tensors are channels last ([N, H, W, C], [N, L, C]). The exported model keeps nabla's inputs and
// outputs, so each windowed layer transposes to channels first, runs the framework's operator and
// transposes back. Padding is explicit per side: TensorFlow's 'same' puts the odd one after
// (bottom, right), which torch's symmetric `padding` cannot say, so the torch forms pad first
// (`windowed` in the generated file's preamble) and the ONNX forms give `pads`.
import type { OnnxEmitter } from './types.ts';

/** (before, after) per spatial axis. */
export type SidePads = readonly (readonly [number, number])[];

/** A Python tuple of integers: `(3, 3)`. */
export const pyTuple = (values: readonly number[]): string => `(${values.join(', ')}${values.length === 1 ? ',' : ''})`;

/** The padding as the generated preamble takes it: `[(0, 1), (0, 1)]`. */
export const pyPads = (pads: SidePads): string => `[${pads.map((p) => pyTuple(p)).join(', ')}]`;

/** The generated preamble's `windowed(fn, x, pads)`: fn over channels-last x, zero-padded per side. */
export const torchWindowed = (fn: string, x: string, pads: SidePads): string => `windowed(${fn}, ${x}, ${pyPads(pads)})`;

/** ONNX's `pads`: every axis's before, then every axis's after ([top, left, bottom, right]). */
export const onnxPads = (pads: SidePads): number[] => [...pads.map((p) => p[0]), ...pads.map((p) => p[1])];

/** `op` (given channels-first x, returning channels-first) over channels-last x with `axes` spatial axes. */
export function onnxWindowed(g: OnnxEmitter, x: string, axes: number, op: (channelsFirst: string) => string): string {
  const spatial = Array.from({ length: axes }, (_, i) => i + 1);
  const first = g.node('Transpose', [x], { perm: [0, axes + 1, ...spatial] });
  return g.node('Transpose', [op(first)], { perm: [0, ...spatial.map((a) => a + 1), 1] });
}
