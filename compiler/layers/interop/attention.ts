// multi_head_attention's Keras form. Keras's MultiHeadAttention holds a kernel per role, query and
// key [E, H, keyDim], value [E, H, valueDim], attention_output [H, valueDim, E], and biases [H, d]
// and [E]; nabla holds torch's stacked in_proj_weight [H·(2·keyDim + valueDim), E] (rows q, k, v,
// each head-major: row h·d + j) and out_proj.weight [E, H·valueDim]. So Keras's query kernel is the
// query rows of in_proj_weight transposed ([E, H·keyDim]) and viewed [E, H, keyDim], its bias those
// rows of in_proj_bias viewed [H, keyDim], and attention_output's kernel is out_proj.weight
// transposed and viewed [H, valueDim, E]. On import each role's kernel gives its rows of
// in_proj_weight (zeros elsewhere) and the importer adds the three.
import { field, weightedFromKeras, weightedToKeras } from './keras.ts';
import { transpose } from './recurrent.ts';
import { KerasFieldError, type KerasDerivedWeight, type KerasMapping } from './types.ts';
import type { InitializerSpec } from '../../init/initializers.ts';

export interface AttentionKerasOptions {
  readonly numHeads: number;
  readonly keyDim?: number | undefined;
  readonly valueDim?: number | undefined;
  readonly useCausalMask: boolean;
  readonly useBias: boolean;
  readonly kernelInitializer: InitializerSpec;
  readonly biasInitializer: InitializerSpec;
}

/** Head widths from the options and the model width E. */
interface Heads {
  readonly heads: number;
  readonly keyDim: number;
  readonly valueDim: number;
}

/** Its part of a parameter: rows [start, start + count) of a matrix [rows, columns] transposed (a vector: those entries), in Keras's shape. */
interface Part {
  readonly start: number;
  readonly count: number;
  readonly shape: readonly number[];
}

/** A Keras weight that is a block of rows of one parameter, transposed; `part` from the parameter's shape. */
function rowsOf(keras: string, suffix: string, part: (paramShape: readonly number[]) => Part): KerasDerivedWeight {
  const columnsOf = (shape: readonly number[]): number => (shape.length === 2 ? shape[1]! : 1);
  return {
    keras,
    suffixes: [suffix],
    shape: ([shape]) => part(shape!).shape,
    toKeras: ([p], [shape]) => {
      const { start, count } = part(shape!);
      const columns = columnsOf(shape!);
      const block = p!.slice(start * columns, (start + count) * columns);
      return columns === 1 ? block : transpose(block, count, columns);
    },
    fromKeras: (v, [shape]) => {
      const { start, count } = part(shape!);
      const columns = columnsOf(shape!);
      const out = new Float32Array(shape!.reduce((a, d) => a * d, 1));
      out.set(columns === 1 ? v : transpose(v, columns, count), start * columns);
      return [out];
    },
  };
}

const KERNEL = [{ keras: 'kernel', option: 'kernelInitializer' }] as const;

/** The Keras form of multi_head_attention; `heads(options, E)` gives its head widths at model width E. */
export function multiHeadAttentionKeras<O extends AttentionKerasOptions>(suffixes: { readonly inWeight: string; readonly inBias: string; readonly outWeight: string; readonly outBias: string }, heads: (o: O, width: number) => Heads): KerasMapping<O> {
  return {
    className: 'MultiHeadAttention',
    fromKeras: {
      MultiHeadAttention: (c) => {
        const { activation: _none, ...fields } = weightedFromKeras(c, KERNEL);
        if (field(c, 'dropout', 'number', 0) !== 0) throw new KerasFieldError('dropout', 'dropout on the attention weights is not supported: only 0');
        if (c['output_shape'] !== undefined && c['output_shape'] !== null) throw new KerasFieldError('output_shape', 'output_shape is not supported: the output has the query\'s width');
        const axes = c['attention_axes'];
        if (axes !== undefined && axes !== null && JSON.stringify(axes) !== '[1]' && axes !== 1) throw new KerasFieldError('attention_axes', 'attention over axes other than the steps is not supported');
        const keyDim = field(c, 'key_dim', 'number');
        return { numHeads: field(c, 'num_heads', 'number'), keyDim, valueDim: field(c, 'value_dim', 'number', keyDim), ...fields };
      },
    },
    toKeras: (o, inputShapes) => {
      if (o.useCausalMask) throw new KerasFieldError('useCausalMask', "Keras's use_causal_mask is an argument of the call, which a layer's config does not hold");
      const a = heads(o, inputShapes[0]![1]!);
      const { activation: _linear, ...fields } = weightedToKeras({ ...o, activation: 'linear' }, KERNEL);
      return { num_heads: a.heads, key_dim: a.keyDim, value_dim: a.valueDim, dropout: 0, output_shape: null, attention_axes: null, ...fields };
    },
    weights: (o) => {
      // A role's rows of the stacked projection: queries, then keys, then values.
      const rowsFor = (a: Heads, role: number): { readonly start: number; readonly size: number } => ({
        start: role === 0 ? 0 : role === 1 ? a.heads * a.keyDim : 2 * a.heads * a.keyDim,
        size: role === 2 ? a.valueDim : a.keyDim,
      });
      const roles = ['query', 'key', 'value'].flatMap((name, role) => [
        // E is in_proj_weight's second axis.
        rowsOf(`${name}/kernel`, suffixes.inWeight, (shape) => {
          const a = heads(o, shape[1]!);
          const r = rowsFor(a, role);
          return { start: r.start, count: a.heads * r.size, shape: [shape[1]!, a.heads, r.size] };
        }),
        ...(o.useBias
          ? [
              rowsOf(`${name}/bias`, suffixes.inBias, (shape) => {
                const a = headsFromBias(o, shape[0]!);
                const r = rowsFor(a, role);
                return { start: r.start, count: a.heads * r.size, shape: [a.heads, r.size] };
              }),
            ]
          : []),
      ]);
      return [
        ...roles,
        // E is out_proj.weight's first axis.
        rowsOf('attention_output/kernel', suffixes.outWeight, (shape) => {
          const a = heads(o, shape[0]!);
          return { start: 0, count: shape[0]!, shape: [a.heads, a.valueDim, shape[0]!] };
        }),
        ...(o.useBias ? [rowsOf('attention_output/bias', suffixes.outBias, (shape) => ({ start: 0, count: shape[0]!, shape: [shape[0]!] }))] : []),
      ];
    },
  };
}

/** The head widths from in_proj_bias's length H·(2·keyDim + valueDim) where keyDim is not given (then valueDim = keyDim too). */
function headsFromBias(o: AttentionKerasOptions, rows: number): Heads {
  const keyDim = o.keyDim ?? rows / (3 * o.numHeads);
  return { heads: o.numHeads, keyDim, valueDim: o.valueDim ?? keyDim };
}
