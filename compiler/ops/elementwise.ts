// The factory for elementwise ops: a float64 function, AssemblyScript expressions and a vjp
// make a whole op. Broadcasting follows numpy; un-broadcasting the gradients is the backward
// walker's job, so a rule here returns cotangents at the output's shape.
import { broadcastShapes } from '../ir/broadcast.ts';
import { forEachBroadcast, tensor64 } from '../ir/tensor.ts';
import { shapeToString } from '../ir/types.ts';
import { ShapeError, type OpDef, type Vjp, type WithDerivative } from './op.ts';

export interface ElementwiseSpec {
  readonly name: string;
  readonly arity: 1 | 2;
  readonly f64: (...operands: number[]) => number;
  readonly scalar: (...operands: string[]) => string;
  readonly simd?: (...operands: string[]) => string;
  readonly withDerivative?: WithDerivative;
  readonly vjp: Vjp<Record<string, never>>;
}

export function elementwise(spec: ElementwiseSpec): OpDef {
  return {
    name: spec.name,
    arity: spec.arity,
    shape(inputs) {
      let shape = inputs[0]!.shape;
      for (const input of inputs.slice(1)) {
        const joined = broadcastShapes(shape, input.shape);
        if (!joined) {
          throw new ShapeError(
            `${spec.name}: shapes ${inputs.map((i) => shapeToString(i.shape)).join(' and ')} do not broadcast`,
          );
        }
        shape = joined;
      }
      for (const input of inputs) {
        if (input.dtype !== 'f32') throw new ShapeError(`${spec.name}: operands must be f32, got ${input.dtype}`);
      }
      return { shape, dtype: 'f32' };
    },
    eval(inputs, _attrs, ctx) {
      const target = ctx.node.shape.map((d) => (d === 'N' ? ctx.n : d));
      const out = tensor64(target);
      const datas = inputs.map((t) => t.data);
      const args = new Array<number>(inputs.length);
      forEachBroadcast(
        target,
        inputs.map((t) => t.shape),
        (i, offsets) => {
          for (let k = 0; k < datas.length; k++) args[k] = datas[k]![offsets[k]!]!;
          out.data[i] = spec.f64(...args);
        },
      );
      return out;
    },
    vjp: spec.vjp,
    template: spec.simd
      ? { kind: 'elementwise', scalar: spec.scalar, simd: spec.simd, ...(spec.withDerivative ? { withDerivative: spec.withDerivative } : {}) }
      : { kind: 'elementwise', scalar: spec.scalar },
  };
}
