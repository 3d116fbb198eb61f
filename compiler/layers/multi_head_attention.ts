// Keras's MultiHeadAttention on sequences [steps, features]: one input is self-attention; the graph
// form may give [query, value] or [query, value, key] (Keras's call order; key defaults to value).
// `useCausalMask` (Keras's call argument, here an option) lets query i see keys j ≤ i. Parameters
// are named and laid out as torch.nn.MultiheadAttention's (compiler/layers/attention.ts): with
// numHeads·keyDim = features and valueDim = keyDim (the default keyDim is features / numHeads), a
// checkpoint loads into `nn.MultiheadAttention(features, numHeads, batch_first=True)` as it is.
// Keras's per-role kernels [E, H, d] (query/key/value/attention_output) map onto those rows of the
// stacked projection (interop/attention.ts). ONNX: the same nodes, opset 17.
import { z } from 'zod';
import { Initializer } from '../init/initializers.ts';
import { attentionInputs, attentionParams, attentionSuffixes, multiHeadAttention, onnxMultiHeadAttention, type AttentionShape } from './attention.ts';
import { positiveInt } from './fields.ts';
import { multiHeadAttentionKeras } from './interop/attention.ts';
import { defineLayer, LayerShapeError, type FeatureShape } from './layer.ts';

const options = {
  numHeads: positiveInt,
  /** Width of each head's queries and keys; default features / numHeads (torch's head width). */
  keyDim: positiveInt.optional(),
  /** Width of each head's values; default keyDim. */
  valueDim: positiveInt.optional(),
  useCausalMask: z.boolean().default(false),
  useBias: z.boolean().default(true),
  /** Dropout on the attention weights: not supported, only 0. */
  dropout: z.literal(0, { error: 'dropout on the attention weights is not supported: only 0' }).default(0),
  kernelInitializer: Initializer.default({ type: 'glorot_uniform' }),
  biasInitializer: Initializer.default({ type: 'zeros' }),
};

interface Options {
  readonly numHeads: number;
  readonly keyDim?: number | undefined;
  readonly valueDim?: number | undefined;
}

/** The head widths for a query of `width` features; a LayerShapeError where the default keyDim does not divide. */
export function headShape(type: string, o: Options, width: number): AttentionShape {
  if (o.keyDim === undefined && width % o.numHeads !== 0) throw new LayerShapeError(`${type}: ${width} features do not split into ${o.numHeads} heads; give keyDim`);
  const keyDim = o.keyDim ?? width / o.numHeads;
  return { numHeads: o.numHeads, keyDim, valueDim: o.valueDim ?? keyDim };
}

/** True where torch.nn.MultiheadAttention holds exactly these parameters. */
export function torchCompatible(a: AttentionShape, width: number): boolean {
  return a.numHeads * a.keyDim === width && a.valueDim === a.keyDim;
}

const suffixes = attentionSuffixes('');
const width = (inputs: readonly FeatureShape[]): number => inputs[0]![1]!;

export const multiHeadAttentionLayer = defineLayer({
  type: 'multi_head_attention',
  options,
  arity: { min: 1, max: 3 },
  outputShape: (o, inputs) => {
    attentionInputs('multi_head_attention', inputs);
    headShape('multi_head_attention', o, width(inputs));
    return inputs[0]!;
  },
  params: (o, inputs) => attentionParams('', headShape('multi_head_attention', o, width(inputs)), width(inputs), o.useBias, o.kernelInitializer, o.biasInitializer),
  // Keras's masks: the query's for the queries (and the output), the value's and the key's for the keys.
  mask: 'read',
  keepsMask: () => true,
  lower: ({ b, options: o, inputs, inputShapes, params, masks }) => {
    const [query, value, key] = [inputs[0]!, inputs[1] ?? inputs[0]!, inputs[2] ?? inputs[1] ?? inputs[0]!];
    const p = { inWeight: params[suffixes.inWeight]!, inBias: params[suffixes.inBias] ?? null, outWeight: params[suffixes.outWeight]!, outBias: params[suffixes.outBias] ?? null };
    // Self-attention (one input): its mask is the query's and the keys'.
    const [queryMask, valueMask, keyMask] = [masks[0] ?? null, (inputs.length === 1 ? masks[0] : masks[1]) ?? null, masks[2] ?? null];
    const keys = valueMask !== null && keyMask !== null ? b.op('mul', [valueMask, keyMask]) : (valueMask ?? keyMask);
    const attentionMasks = queryMask === null && keys === null ? null : { query: queryMask, key: keys };
    return multiHeadAttention(b, query, key, value, p, headShape('multi_head_attention', o, width(inputShapes)), o.useCausalMask, attentionMasks);
  },
  describe: (o) => `multi_head_attention (${o.numHeads} heads${o.useCausalMask ? ', causal' : ''})`,
  keras: multiHeadAttentionKeras(suffixes, (o, e) => {
    const a = headShape('multi_head_attention', o, e);
    return { heads: a.numHeads, keyDim: a.keyDim, valueDim: a.valueDim };
  }),
  torch: {
    module: (o, inputs) => {
      const e = width(inputs);
      if (!torchCompatible(headShape('multi_head_attention', o, e), e)) {
        throw new LayerShapeError(`multi_head_attention: torch.nn.MultiheadAttention needs numHeads·keyDim = ${e} features and valueDim = keyDim`);
      }
      return `nn.MultiheadAttention(${e}, ${o.numHeads}, bias=${o.useBias ? 'True' : 'False'}, batch_first=True)`;
    },
    forward: (o, [q, v, k], self, shapes) => {
      const value = v ?? q!;
      const key = k ?? value;
      const mask = o.useCausalMask ? `, attn_mask=torch.ones(${shapes[0]![0]}, ${(shapes[1] ?? shapes[0]!)[0]}, dtype=torch.bool, device=${q}.device).triu(1)` : '';
      return `${self}(${q}, ${key}, ${value}, need_weights=False${mask})[0]`;
    },
  },
  onnx: {
    lower: (g, o, [q, v, k], params, shapes) => {
      const value = v ?? q!;
      const p = { inWeight: params[suffixes.inWeight]!, inBias: params[suffixes.inBias], outWeight: params[suffixes.outWeight]!, outBias: params[suffixes.outBias] };
      return onnxMultiHeadAttention(g, q!, k ?? value, value, p, headShape('multi_head_attention', o, width(shapes)), o.useCausalMask, shapes[0]![0]!, (shapes[1] ?? shapes[0]!)[0]!);
    },
  },
});
