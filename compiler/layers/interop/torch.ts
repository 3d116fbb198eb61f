// nabla's activations as PyTorch expressions (`torch`, and `torch.nn.functional` as `F`), for the
// layers' PyTorch mappings. Each is the function nabla computes, with nabla's constants, so the
// generated module's outputs match the interpreter's. Inputs are plain variable names: an
// expression may read its input twice (swish).
import { activationType, type ActivationSpec } from '../../model/activations.ts';

const option = (spec: ActivationSpec, key: 'alpha' | 'beta', fallback: number): number => (typeof spec === 'string' ? fallback : (spec[key] ?? fallback));

/** Python's spelling of a float, exact to the double. */
export const py = (value: number): string => (Number.isInteger(value) ? `${value}.0` : String(value));

export function torchActivation(spec: ActivationSpec, x: string): string {
  const type = activationType(spec);
  switch (type) {
    case 'linear':
      return x;
    case 'sigmoid':
      return `torch.sigmoid(${x})`;
    case 'tanh':
      return `torch.tanh(${x})`;
    case 'relu':
      return `F.relu(${x})`;
    case 'softplus':
      return `F.softplus(${x})`;
    case 'softmax':
      return `F.softmax(${x}, dim=-1)`;
    case 'leaky_relu':
      return `F.leaky_relu(${x}, ${py(option(spec, 'alpha', 0.01))})`;
    case 'elu':
      return `F.elu(${x}, ${py(option(spec, 'alpha', 1))})`;
    case 'selu':
      return `F.selu(${x})`;
    case 'gelu':
      return typeof spec !== 'string' && spec.approximate ? `F.gelu(${x}, approximate='tanh')` : `F.gelu(${x})`;
    case 'swish': {
      const beta = option(spec, 'beta', 1);
      return beta === 1 ? `F.silu(${x})` : `${x} * torch.sigmoid(${py(beta)} * ${x})`;
    }
    case 'silu':
      return `F.silu(${x})`;
  }
}
