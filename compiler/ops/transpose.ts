// Axes permuted: out.shape[i] = x.shape[perm[i]]. Attention splits heads with it, [N, T, H, d] →
// [N, H, T, d], and merges them back. The batch stays the first axis (a partial batch is the
// leading n rows of every buffer). Rank up to 4; vjp: the inverse permutation.
import { tensor64 } from '../ir/tensor.ts';
import { BATCH, shapeToString, type Dim } from '../ir/types.ts';
import { COPY_COST, ShapeError, unitAddress, type EmitArgs, type OpDef } from './op.ts';

export interface TransposeAttrs {
  readonly perm: readonly number[];
}

const MAX_RANK = 4;

/** Row-major strides of a shape of concrete sizes. */
function stridesOf(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) strides[i] = strides[i + 1]! * shape[i + 1]!;
  return strides;
}

export function inversePermutation(perm: readonly number[]): number[] {
  const inverse = new Array<number>(perm.length);
  perm.forEach((p, i) => (inverse[p] = i));
  return inverse;
}

export const transpose: OpDef<TransposeAttrs> = {
  name: 'transpose',
  arity: 1,
  shape([x], { perm }) {
    const rank = x!.shape.length;
    const valid = perm.length === rank && [...perm].sort((a, b) => a - b).every((p, i) => p === i);
    if (!valid) throw new ShapeError(`transpose: [${perm.join(',')}] is not a permutation of the axes of ${shapeToString(x!.shape)}`);
    if (rank > MAX_RANK) throw new ShapeError(`transpose: rank ${rank} above ${MAX_RANK}, got ${shapeToString(x!.shape)}`);
    if (x!.shape.includes(BATCH) && (x!.shape[0] !== BATCH || perm[0] !== 0)) throw new ShapeError(`transpose: the batch must stay the first axis, got [${perm.join(',')}] of ${shapeToString(x!.shape)}`);
    return { shape: perm.map((p) => x!.shape[p]!), dtype: x!.dtype };
  },
  eval([x], { perm }) {
    const inStrides = stridesOf(x!.shape);
    const outShape = perm.map((p) => x!.shape[p]!);
    const out = tensor64(outShape);
    const index = new Array<number>(outShape.length).fill(0);
    for (let flat = 0; flat < out.data.length; flat++) {
      let source = 0;
      for (let i = 0; i < perm.length; i++) source += index[i]! * inStrides[perm[i]!]!;
      out.data[flat] = x!.data[source]!;
      for (let i = outShape.length - 1; i >= 0; i--) {
        if (++index[i]! < outShape[i]!) break;
        index[i] = 0;
      }
    }
    return out;
  },
  vjp: (b, { g, attrs }) => [b.op('transpose', [g], { perm: inversePermutation(attrs.perm) })],
  template: {
    kind: 'kernel',
    // Padded to rank 4 with leading axes of size 1: the output's four sizes and, for each output
    // axis, the stride of the input axis it reads (elements, as i32 expressions).
    emit: (args) => permuteCall(args, '0', args.dim(args.node.shape[0]!)),
    // The threaded build may give each part a range of the first axis (the batch), where it stays first.
    parts: {
      units: (args) => ({ count: args.dim(args.node.shape[0]!), group: 1, cost: args.attrs.perm[0] === 0 ? COPY_COST * unitFloats(args) : 0 }),
      emit: permuteCall,
    },
  },
};

/** Floats in one unit of the first axis (the batch is only ever the first axis). */
const unitFloats = ({ node }: Pick<EmitArgs<TransposeAttrs>, 'node'>): number => node.shape.slice(1).reduce<number>((a, d) => a * (typeof d === 'number' ? d : 1), 1);

/** Units first … first + count − 1 of the first axis (the whole call: 0 and all of them). */
function permuteCall({ out, ins, inputs, node, attrs, dim }: EmitArgs<TransposeAttrs>, first: string, count: string): string {
  const shape = inputs[0]!.shape;
  const strides: string[] = shape.map((_, i) => shape.slice(i + 1).map(dim).join(' * ') || '1');
  const pad = MAX_RANK - shape.length;
  const sizes = [...new Array<string>(pad).fill('1'), count, ...node.shape.slice(1).map((d: Dim) => dim(d))];
  const reads = [...new Array<string>(pad).fill('0'), ...attrs.perm.map((p) => strides[p]!)];
  const floats = unitFloats({ node });
  return `permute4(${unitAddress(out, first, floats)}, ${unitAddress(ins[0]!, first, floats)}, ${sizes.join(', ')}, ${reads.join(', ')});`;
}
