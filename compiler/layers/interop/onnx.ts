// nabla's activations as ONNX nodes (opset 17), for the layers' ONNX mappings. Where ONNX has no
// single operator at this opset (gelu, swish) the activation is composed as nabla composes it.
import { activationType, SELU_ALPHA, SELU_SCALE, type ActivationSpec } from '../../model/activations.ts';
import type { OnnxEmitter } from './types.ts';

const option = (spec: ActivationSpec, key: 'alpha' | 'beta', fallback: number): number => (typeof spec === 'string' ? fallback : (spec[key] ?? fallback));

export function onnxActivation(g: OnnxEmitter, spec: ActivationSpec, x: string): string {
  const type = activationType(spec);
  switch (type) {
    case 'linear':
      return x;
    case 'sigmoid':
      return g.node('Sigmoid', [x]);
    case 'tanh':
      return g.node('Tanh', [x]);
    case 'relu':
      return g.node('Relu', [x]);
    case 'softplus':
      return g.node('Softplus', [x]);
    case 'softmax':
      return g.node('Softmax', [x], { axis: -1 });
    case 'leaky_relu':
      return g.node('LeakyRelu', [x], { alpha: option(spec, 'alpha', 0.01) });
    case 'elu':
      return g.node('Elu', [x], { alpha: option(spec, 'alpha', 1) });
    case 'selu':
      return g.node('Selu', [x], { alpha: SELU_ALPHA, gamma: SELU_SCALE });
    case 'gelu': {
      let inner: string;
      if (typeof spec !== 'string' && spec.approximate) {
        const cube = g.node('Mul', [x, g.node('Mul', [x, x])]);
        const poly = g.node('Add', [x, g.node('Mul', [g.constant([0.044715]), cube])]);
        inner = g.node('Tanh', [g.node('Mul', [g.constant([Math.sqrt(2 / Math.PI)]), poly])]);
      } else {
        inner = g.node('Erf', [g.node('Mul', [x, g.constant([Math.SQRT1_2])])]);
      }
      return g.node('Mul', [g.node('Mul', [g.constant([0.5]), x]), g.node('Add', [g.constant([1]), inner])]);
    }
    case 'swish':
    case 'silu': {
      const beta = type === 'swish' ? option(spec, 'beta', 1) : 1;
      const scaled = beta === 1 ? x : g.node('Mul', [g.constant([beta]), x]);
      return g.node('Mul', [x, g.node('Sigmoid', [scaled])]);
    }
  }
}
