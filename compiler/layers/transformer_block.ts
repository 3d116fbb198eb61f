// A pre-norm transformer block on sequences [steps, features]: h = x + MHA(LN₁(x)), then
// h + W₂·act(W₁·LN₂(h) + b₁) + b₂ (the MLP on each position). Causal by default (a language
// model's block). One layer, so a Sequential spec can hold it (its residual adds need no graph
// form). Parameters are named as torch.nn.TransformerEncoderLayer's (self_attn.in_proj_weight,
// self_attn.out_proj.*, linear1.*, linear2.*, norm1.*, norm2.*): with numHeads dividing the
// features (the default keyDim), activation relu or gelu, it is
// `nn.TransformerEncoderLayer(E, H, mlpDim, dropout=0, activation, layer_norm_eps, batch_first=True,
// norm_first=True)` called with the causal mask.
import { z } from 'zod';
import { Initializer } from '../init/initializers.ts';
import { activate, Activation } from '../model/activations.ts';
import { f32Epsilon } from '../model/numbers.ts';
import { attentionInputs, attentionParams, attentionSuffixes, multiHeadAttention, onnxMultiHeadAttention } from './attention.ts';
import { onnxActivation } from './interop/onnx.ts';
import { affine } from './dense.ts';
import { positiveInt } from './fields.ts';
import { py } from './interop/torch.ts';
import { defineLayer, LayerShapeError, type FeatureShape } from './layer.ts';
import { layerNorm } from './layer_normalization.ts';
import { headShape, torchCompatible } from './multi_head_attention.ts';

const attention = attentionSuffixes('self_attn.');
const width = (inputs: readonly FeatureShape[]): number => inputs[0]![1]!;

export const transformerBlockLayer = defineLayer({
  type: 'transformer_block',
  options: {
    numHeads: positiveInt,
    /** Width of each head's queries, keys and values; default features / numHeads. */
    keyDim: positiveInt.optional(),
    /** Hidden width of the MLP; default 4 × features. */
    mlpDim: positiveInt.optional(),
    activation: Activation.default('gelu'),
    useCausalMask: z.boolean().default(true),
    /** Both layer normalizations' ε; default PyTorch's 1e-5. */
    epsilon: f32Epsilon.default(1e-5),
    kernelInitializer: Initializer.default({ type: 'glorot_uniform' }),
    biasInitializer: Initializer.default({ type: 'zeros' }),
  },
  outputShape: (o, inputs) => {
    attentionInputs('transformer_block', inputs);
    headShape('transformer_block', o, width(inputs));
    return inputs[0]!;
  },
  params: (o, inputs) => {
    const e = width(inputs);
    const hidden = o.mlpDim ?? 4 * e;
    const kernel = o.kernelInitializer;
    const bias = o.biasInitializer;
    return [
      ...attentionParams('self_attn.', headShape('transformer_block', o, e), e, true, kernel, bias),
      { suffix: 'linear1.weight', shape: [hidden, e], init: kernel },
      { suffix: 'linear1.bias', shape: [hidden], init: bias },
      { suffix: 'linear2.weight', shape: [e, hidden], init: kernel },
      { suffix: 'linear2.bias', shape: [e], init: bias },
      { suffix: 'norm1.weight', shape: [e], init: { type: 'ones' } },
      { suffix: 'norm1.bias', shape: [e], init: { type: 'zeros' } },
      { suffix: 'norm2.weight', shape: [e], init: { type: 'ones' } },
      { suffix: 'norm2.bias', shape: [e], init: { type: 'zeros' } },
    ];
  },
  // A masked sequence (embedding with maskZero): the attention hides masked queries and keys, as
  // multi_head_attention does; the rest computes per position, so the output carries the mask on.
  mask: 'read',
  keepsMask: () => true,
  lower: ({ b, options: o, inputs, inputShapes, params, mask }) => {
    const x = inputs[0]!;
    const p = (suffix: string) => params[suffix]!;
    const normed = layerNorm(b, x, p('norm1.weight'), p('norm1.bias'), o.epsilon);
    const attended = multiHeadAttention(
      b,
      normed,
      normed,
      normed,
      { inWeight: p(attention.inWeight), inBias: p(attention.inBias), outWeight: p(attention.outWeight), outBias: p(attention.outBias) },
      headShape('transformer_block', o, width(inputShapes)),
      o.useCausalMask,
      mask === null ? null : { query: mask, key: mask },
    );
    const h = b.op('add', [x, attended]);
    const hidden = activate(b, affine(b, layerNorm(b, h, p('norm2.weight'), p('norm2.bias'), o.epsilon), p('linear1.weight'), p('linear1.bias')), o.activation);
    return b.op('add', [h, affine(b, hidden, p('linear2.weight'), p('linear2.bias'))]);
  },
  describe: (o) => `transformer_block (${o.numHeads} heads${o.useCausalMask ? ', causal' : ''})`,
  torch: {
    module: (o, inputs) => {
      const e = width(inputs);
      const act = o.activation;
      const torchActivation = act === 'relu' ? 'relu' : act === 'gelu' ? 'gelu' : null;
      if (!torchCompatible(headShape('transformer_block', o, e), e) || torchActivation === null) {
        throw new LayerShapeError('transformer_block: nn.TransformerEncoderLayer needs the default keyDim (features / numHeads) and activation relu or exact gelu');
      }
      return `nn.TransformerEncoderLayer(${e}, ${o.numHeads}, dim_feedforward=${o.mlpDim ?? 4 * e}, dropout=0.0, activation='${torchActivation}', layer_norm_eps=${py(o.epsilon)}, batch_first=True, norm_first=True)`;
    },
    forward: (o, [x], self, [shape]) => {
      const steps = shape![0]!;
      return o.useCausalMask ? `${self}(${x}, src_mask=torch.ones(${steps}, ${steps}, dtype=torch.bool, device=${x}.device).triu(1))` : `${self}(${x})`;
    },
  },
  onnx: {
    lower: (g, o, [x], params, shapes) => {
      const p = (suffix: string) => params[suffix]!;
      const norm = (t: string, gamma: string, beta: string): string => {
        const mean = (u: string): string => g.node('ReduceMean', [u], { axes: [-1], keepdims: 1 });
        const centered = g.node('Sub', [t, mean(t)]);
        const scaled = g.node('Div', [centered, g.node('Sqrt', [g.node('Add', [mean(g.node('Mul', [centered, centered])), g.constant([o.epsilon])])])]);
        return g.node('Add', [g.node('Mul', [scaled, p(gamma)]), p(beta)]);
      };
      const linear = (t: string, w: string, b: string): string => g.node('Add', [g.node('MatMul', [t, g.node('Transpose', [p(w)], { perm: [1, 0] })]), p(b)]);
      const steps = shapes[0]![0]!;
      const normed = norm(x!, 'norm1.weight', 'norm1.bias');
      const attentionParams = { inWeight: p(attention.inWeight), inBias: p(attention.inBias), outWeight: p(attention.outWeight), outBias: p(attention.outBias) };
      const h = g.node('Add', [x!, onnxMultiHeadAttention(g, normed, normed, normed, attentionParams, headShape('transformer_block', o, width(shapes)), o.useCausalMask, steps, steps)]);
      const hidden = onnxActivation(g, o.activation, linear(norm(h, 'norm2.weight', 'norm2.bias'), 'linear1.weight', 'linear1.bias'));
      return g.node('Add', [h, linear(hidden, 'linear2.weight', 'linear2.bias')]);
    },
  },
});
