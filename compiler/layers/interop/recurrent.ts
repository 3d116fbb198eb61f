// The recurrent layers' Keras, PyTorch and ONNX forms. nabla's parameters are PyTorch's (names,
// [G·units, in] layout, gate blocks i, f, g, o and r, z, n, two biases), so the PyTorch form is
// nn.RNN/LSTM/GRU itself. Keras holds kernel [in, G·units] and recurrent_kernel [units, G·units]
// (the transposes), one bias (the sum of PyTorch's two; a GRU with reset_after two, stacked
// [2, 3·units]), and orders a GRU's blocks z, r, h. ONNX's LSTM orders its blocks i, o, f, c and its
// GRU z, r, h, with W [1, G·units, in], R [1, G·units, units] and B = [W_b, R_b] [1, 2·G·units].
import { activationType } from '../../model/activations.ts';
import type { InitializerSpec } from '../../init/initializers.ts';
import { activationFromKeras, activationToKeras, field, initializerFromKeras, weightedFromKeras, weightedToKeras } from './keras.ts';
import { FormError, isDerivedWeight, KerasFieldError, type KerasConfig, type KerasDerivedWeight, type KerasMapping, type KerasWeight, type OnnxEmitter, type OnnxMapping, type TorchMapping } from './types.ts';
import { recurrentActivationOf, torchActivations, type Cell, type RecurrentOptions } from '../recurrent.ts';

/** Gate blocks in nabla's (PyTorch's) order, listed in another framework's order. */
const KERAS_GRU_BLOCKS = [1, 0, 2];
const ONNX_LSTM_BLOCKS = [0, 3, 1, 2];
const ONNX_GRU_BLOCKS = [1, 0, 2];

/** The rows of `data` ([blocks·size rows of `width`]) in block order `order`; self-inverse for the orders above but ONNX's LSTM, which export only. */
function reorderBlocks(data: Float32Array, order: readonly number[] | null, rowsPerBlock: number, width: number): Float32Array {
  if (order === null) return data;
  const out = new Float32Array(data.length);
  const block = rowsPerBlock * width;
  order.forEach((from, to) => out.set(data.subarray(from * block, (from + 1) * block), to * block));
  return out;
}

/** The [columns, rows] transpose of a row-major [rows, columns] matrix. */
export function transpose(data: Float32Array, rows: number, columns: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < columns; c++) out[c * rows + r] = data[r * columns + c]!;
  return out;
}

const add = (a: Float32Array, b: Float32Array): Float32Array => a.map((v, i) => v + b[i]!);

/** A kernel: nabla's [G·units, in] with its blocks in Keras's order, transposed to [in, G·units]. */
function kernel(keras: string, suffix: string, units: number, order: readonly number[] | null): KerasDerivedWeight {
  return {
    keras,
    suffixes: [suffix],
    shape: ([shape]) => [shape![1]!, shape![0]!],
    toKeras: ([w], [shape]) => transpose(reorderBlocks(w!, order, units, shape![1]!), shape![0]!, shape![1]!),
    fromKeras: (v, [shape]) => [reorderBlocks(transpose(v, shape![1]!, shape![0]!), order, units, shape![1]!)],
  };
}

/** Keras's one bias: the sum of PyTorch's two (on import, all of it goes to bias_ih and bias_hh is zero). */
function summedBias(units: number, order: readonly number[] | null): KerasDerivedWeight {
  return {
    keras: 'bias',
    suffixes: ['bias_ih_l0', 'bias_hh_l0'],
    shape: ([shape]) => [shape![0]!],
    toKeras: ([ih, hh]) => reorderBlocks(add(ih!, hh!), order, units, 1),
    fromKeras: (v) => [reorderBlocks(v, order, units, 1), new Float32Array(v.length)],
  };
}

/** A reset_after GRU's bias [2, 3·units]: the input bias, then the recurrent one, each in Keras's order. */
function stackedBias(units: number): KerasDerivedWeight {
  return {
    keras: 'bias',
    suffixes: ['bias_ih_l0', 'bias_hh_l0'],
    shape: ([shape]) => [2, shape![0]!],
    toKeras: ([ih, hh]) => {
      const out = new Float32Array(2 * ih!.length);
      out.set(reorderBlocks(ih!, KERAS_GRU_BLOCKS, units, 1));
      out.set(reorderBlocks(hh!, KERAS_GRU_BLOCKS, units, 1), ih!.length);
      return out;
    },
    fromKeras: (v) => [reorderBlocks(v.slice(0, v.length / 2), KERAS_GRU_BLOCKS, units, 1), reorderBlocks(v.slice(v.length / 2), KERAS_GRU_BLOCKS, units, 1)],
  };
}

/** Keras's recurrent initializer default, Orthogonal, which nabla does not draw: read as glorot_uniform (imported weights replace it anyway). */
function recurrentInitializerFromKeras(c: KerasConfig): InitializerSpec {
  const value = c['recurrent_initializer'];
  const className = typeof value === 'string' ? value : (value as { class_name?: unknown } | null | undefined)?.class_name;
  if (typeof className === 'string' && className.toLowerCase() === 'orthogonal') return { type: 'glorot_uniform' };
  return initializerFromKeras(c, 'recurrent_initializer', { type: 'glorot_uniform' });
}

/** The input and recurrent kernels and their initializer options. */
const KERNELS = [
  { keras: 'kernel', option: 'kernelInitializer' },
  { keras: 'recurrent', option: 'recurrentInitializer', initializerFromKeras: recurrentInitializerFromKeras },
] as const;

const isGru = (cell: Cell): boolean => cell.gates === 3;
const resetAfterOf = (o: RecurrentOptions): boolean => (o as RecurrentOptions & { readonly resetAfter?: boolean }).resetAfter ?? true;

/** The Keras form of a recurrent layer (SimpleRNN, LSTM, GRU). */
export function recurrentKeras<O extends RecurrentOptions>(cell: Cell, className: string): KerasMapping<O> {
  const gated = cell.gates > 1;
  return {
    className,
    fromKeras: {
      [className]: (c) => {
        for (const key of ['dropout', 'recurrent_dropout']) {
          if (field(c, key, 'number', 0) !== 0) throw new KerasFieldError(key, `${key} is not supported in recurrent layers; put a dropout layer before or after instead`);
        }
        if (field(c, 'stateful', 'boolean', false)) throw new KerasFieldError('stateful', 'stateful recurrent layers are not supported: each batch starts from zero states');
        if (field(c, 'return_state', 'boolean', false)) {
          throw new KerasFieldError('return_state', "return_state gives Keras a list of tensors; a nabla layer has one output (nabla's returnState outputs the final state alone)");
        }
        if (field(c, 'time_major', 'boolean', false)) throw new KerasFieldError('time_major', 'time_major inputs are not supported: sequences are [batch, steps, features]');
        return {
          units: field(c, 'units', 'number'),
          ...weightedFromKeras(c, KERNELS, 'tanh'),
          ...(gated ? { recurrentActivation: activationFromKeras({ recurrent_activation: 'sigmoid', ...c }, 'recurrent_activation') } : {}),
          returnSequences: field(c, 'return_sequences', 'boolean', false),
          goBackwards: field(c, 'go_backwards', 'boolean', false),
          ...(isGru(cell) ? { resetAfter: field(c, 'reset_after', 'boolean', true) } : {}),
        };
      },
    },
    toKeras: (o) => {
      if (o.returnState) throw new KerasFieldError('returnState', "returnState outputs the final state alone; Keras's return_state gives a list of tensors");
      return {
        units: o.units,
        ...weightedToKeras(o, KERNELS),
        ...(gated ? { recurrent_activation: activationToKeras(recurrentActivationOf(o)) } : {}),
        ...(cell.gates === 4 ? { unit_forget_bias: false } : {}),
        ...(isGru(cell) ? { reset_after: resetAfterOf(o) } : {}),
        dropout: 0,
        recurrent_dropout: 0,
        return_sequences: o.returnSequences,
        return_state: false,
        go_backwards: o.goBackwards,
        stateful: false,
        unroll: false,
      };
    },
    weights: (o) => {
      const order = isGru(cell) ? KERAS_GRU_BLOCKS : null;
      return [
        kernel('kernel', 'weight_ih_l0', o.units, order),
        kernel('recurrent_kernel', 'weight_hh_l0', o.units, order),
        ...(o.useBias ? [isGru(cell) && resetAfterOf(o) ? stackedBias(o.units) : summedBias(o.units, order)] : []),
      ];
    },
  };
}

/** The Keras class of each recurrent layer type. */
const KERAS_CLASSES: Readonly<Record<string, string>> = { simple_rnn: 'SimpleRNN', lstm: 'LSTM', gru: 'GRU' };

/** A weight of an inner layer under `scope`, its parameters those with suffix `tail` (a bidirectional layer's `_reverse`). */
function scoped(w: KerasWeight | KerasDerivedWeight, scope: string, tail: string): KerasWeight | KerasDerivedWeight {
  return isDerivedWeight(w) ? { ...w, keras: `${scope}/${w.keras}`, suffixes: w.suffixes.map((s) => s + tail) } : { ...w, keras: `${scope}/${w.keras}`, suffix: w.suffix + tail };
}

/** A `{ class_name, config }` object of a Keras config field, or a KerasFieldError naming it. */
function nestedLayer(c: KerasConfig, key: string): { readonly className: string; readonly config: KerasConfig } {
  const value = c[key] as { class_name?: unknown; config?: unknown } | null | undefined;
  if (value === null || typeof value !== 'object' || typeof value.class_name !== 'string' || typeof value.config !== 'object' || value.config === null) {
    throw new KerasFieldError(key, `expected ${key} to be a layer { class_name, config }`);
  }
  return { className: value.class_name, config: value.config as KerasConfig };
}

type Wrapped = { readonly layer: RecurrentOptions & { readonly type: string } };

/**
 * The Keras form of a bidirectional layer: Bidirectional(merge_mode='concat') around a SimpleRNN,
 * LSTM or GRU. Keras keeps the directions' weights under `forward_<inner>` and `backward_<inner>`
 * (the inner layer's name; nabla writes its type), each as that recurrent layer's; the backward
 * ones are nabla's `_reverse` parameters. A `backward_layer` (Keras 3 writes one) must be the
 * forward layer reading the other way.
 */
export function bidirectionalKeras<O extends Wrapped>(cells: readonly Cell[]): KerasMapping<O> {
  const cellOf = (type: string): Cell => cells.find((cell) => cell.type === type)!;
  const innerKeras = (type: string): KerasMapping<RecurrentOptions> => recurrentKeras(cellOf(type), KERAS_CLASSES[type]!);
  const innerName = (o: O, config?: KerasConfig): string => {
    const name = config === undefined ? undefined : (nestedLayer(config, 'layer').config['name'] as unknown);
    return typeof name === 'string' ? name : o.layer.type;
  };
  const read = (c: KerasConfig, key: string): Record<string, unknown> => {
    const inner = nestedLayer(c, key);
    const cell = cells.find((k) => KERAS_CLASSES[k.type] === inner.className);
    if (cell === undefined) throw new KerasFieldError(key, `Bidirectional wraps ${inner.className}; nabla's wraps ${cells.map((k) => KERAS_CLASSES[k.type]).join(', ')}`);
    try {
      return { type: cell.type, ...innerKeras(cell.type).fromKeras[inner.className]!(inner.config) };
    } catch (err) {
      if (err instanceof KerasFieldError) throw new KerasFieldError(`${key}.${err.field}`, `${key} (${inner.className}): ${err.message}`);
      throw err;
    }
  };
  return {
    className: 'Bidirectional',
    fromKeras: {
      Bidirectional: (c) => {
        const mergeMode = field(c, 'merge_mode', 'string', 'concat');
        if (mergeMode !== 'concat') throw new KerasFieldError('merge_mode', `merge_mode '${mergeMode}' is not supported: only 'concat'`);
        const layer = read(c, 'layer');
        if (c['backward_layer'] !== undefined && c['backward_layer'] !== null) {
          const backward = read(c, 'backward_layer');
          const mirrored = { ...layer, goBackwards: !layer['goBackwards'] };
          if (JSON.stringify(backward) !== JSON.stringify(mirrored)) {
            throw new KerasFieldError('backward_layer', 'a backward_layer other than the forward layer reading backwards is not supported');
          }
        }
        return { layer, mergeMode: 'concat' };
      },
    },
    toKeras: (o, inputShapes) => ({
      merge_mode: 'concat',
      layer: { class_name: KERAS_CLASSES[o.layer.type]!, config: { name: o.layer.type, trainable: true, dtype: 'float32', ...innerKeras(o.layer.type).toKeras(o.layer, inputShapes) } },
    }),
    weights: (o, config) => {
      const inner = innerKeras(o.layer.type).weights(o.layer);
      const name = innerName(o, config);
      return [...inner.map((w) => scoped(w, `forward_${name}`, '')), ...inner.map((w) => scoped(w, `backward_${name}`, '_reverse'))];
    },
  };
}

/** PyTorch's module for these options, or a FormError saying what it lacks. */
function torchModule(cell: Cell, o: RecurrentOptions, features: number, bidirectional: boolean): string {
  const common = `${features}, ${o.units}, batch_first=True, bias=${o.useBias ? 'True' : 'False'}${bidirectional ? ', bidirectional=True' : ''}`;
  if (cell.gates === 1) {
    const activation = activationType(o.activation);
    if (activation !== 'tanh' && activation !== 'relu') throw new FormError(`nn.RNN computes tanh or relu, not ${activation}`);
    return `nn.RNN(${common}, nonlinearity='${activation}')`;
  }
  if (!torchActivations(o)) throw new FormError(`nn.${cell.gates === 4 ? 'LSTM' : 'GRU'} fixes activation tanh and recurrentActivation sigmoid`);
  if (isGru(cell) && !resetAfterOf(o)) throw new FormError('nn.GRU applies the reset gate after the recurrent product: only resetAfter true has a PyTorch form');
  return `nn.${cell.gates === 4 ? 'LSTM' : 'GRU'}(${common})`;
}

/** The PyTorch form: nn.RNN, nn.LSTM or nn.GRU with batch_first; go_backwards flips the steps first. */
export function recurrentTorch<O extends RecurrentOptions>(cell: Cell): TorchMapping<O> {
  return {
    module: (o, [x]) => torchModule(cell, o, x![1]!, false),
    forward: (o, [x], self) => {
      const run = `${self}(${o.goBackwards ? `${x}.flip(1)` : x})`;
      if (o.returnState) return cell.gates === 4 ? `torch.cat(${run}[1], -1)[0]` : `${run}[1][0]`;
      return o.returnSequences ? `${run}[0]` : `${run}[0][:, -1]`;
    },
  };
}

/** The PyTorch form of a bidirectional layer: the module with bidirectional=True; without returnSequences each direction's last h (the backward one at step 0). */
export function bidirectionalTorch<O extends { readonly layer: RecurrentOptions & { readonly type: string } }>(cellOf: (o: O) => Cell): TorchMapping<O> {
  return {
    module: (o, [x]) => {
      if (o.layer.goBackwards) throw new FormError('the wrapped layer reads backwards (goBackwards); PyTorch has no form for it');
      return torchModule(cellOf(o), o.layer, x![1]!, true);
    },
    forward: (o, [x], self) => {
      const u = o.layer.units;
      return o.layer.returnSequences ? `${self}(${x})[0]` : `(lambda y: torch.cat([y[:, -1, :${u}], y[:, 0, ${u}:]], -1))(${self}(${x})[0])`;
    },
  };
}

/** x with its steps (axis 1) in reverse order. */
const reverseSteps = (g: OnnxEmitter, x: string): string => g.node('Slice', [x, g.integers([-1]), g.integers([-(2 ** 53)]), g.integers([1]), g.integers([-1])]);

/** One direction as an ONNX RNN/LSTM/GRU node (direction forward); the output [N, steps, units] in reading order, or the last h [N, units]. */
function onnxDirection(g: OnnxEmitter, cell: Cell, o: RecurrentOptions, x: string, params: Readonly<Record<string, string>>, suffix: string, steps: number, reverse: boolean, sequence: boolean): string {
  const u = o.units;
  const order = cell.gates === 4 ? ONNX_LSTM_BLOCKS : isGru(cell) ? ONNX_GRU_BLOCKS : null;
  const blocks = (name: string): string =>
    order === null ? name : g.node('Concat', order.map((k) => g.node('Slice', [name, g.integers([k * u]), g.integers([(k + 1) * u]), g.integers([0])])), { axis: 0 });
  const withDirection = (name: string): string => g.node('Unsqueeze', [blocks(name), g.integers([0])]);
  // Time-major (layout 0; onnxruntime runs no other): X [steps, N, in], Y [steps, 1, N, units].
  const steps0 = g.node('Transpose', [reverse ? reverseSteps(g, x) : x], { perm: [1, 0, 2] });
  const inputs = [steps0, withDirection(params[`weight_ih_l0${suffix}`]!), withDirection(params[`weight_hh_l0${suffix}`]!)];
  if (o.useBias) inputs.push(g.node('Unsqueeze', [g.node('Concat', [blocks(params[`bias_ih_l0${suffix}`]!), blocks(params[`bias_hh_l0${suffix}`]!)], { axis: 0 }), g.integers([0])]));
  const opType = cell.gates === 4 ? 'LSTM' : isGru(cell) ? 'GRU' : 'RNN';
  const y = g.node(opType, inputs, { hidden_size: u, ...(isGru(cell) ? { linear_before_reset: resetAfterOf(o) ? 1 : 0 } : {}) });
  if (sequence) return g.node('Reshape', [g.node('Transpose', [y], { perm: [2, 0, 1, 3] }), g.integers([-1, steps, u])]);
  return g.node('Reshape', [g.node('Gather', [y, g.integers([steps - 1])], { axis: 0 }), g.integers([-1, u])]);
}

function checkOnnx(cell: Cell, o: RecurrentOptions): void {
  const fixed = cell.gates === 1 ? activationType(o.activation) === 'tanh' : torchActivations(o);
  if (!fixed) throw new FormError("ONNX's recurrent operators are exported with their default activations (tanh, and sigmoid for the gates) only");
  if (o.returnState && cell.gates === 4) throw new FormError("returnState of an lstm (h and c) is not exported to ONNX: the exporter reads the operator's first output only");
}

/** The ONNX form: an RNN, LSTM or GRU node; go_backwards reverses the steps first. */
export function recurrentOnnx<O extends RecurrentOptions>(cell: Cell): OnnxMapping<O> {
  return {
    lower: (g, o, [x], params, [shape]) => {
      checkOnnx(cell, o);
      return onnxDirection(g, cell, o, x!, params, '', shape![0]!, o.goBackwards, o.returnSequences);
    },
  };
}

/** The ONNX form of a bidirectional layer: two nodes, the backward one on the reversed steps, its sequence reversed back; joined on the last axis. */
export function bidirectionalOnnx<O extends { readonly layer: RecurrentOptions & { readonly type: string } }>(cellOf: (o: O) => Cell): OnnxMapping<O> {
  return {
    lower: (g, o, [x], params, [shape]) => {
      const cell = cellOf(o);
      checkOnnx(cell, o.layer);
      const steps = shape![0]!;
      const sequence = o.layer.returnSequences;
      const forward = onnxDirection(g, cell, o.layer, x!, params, '', steps, o.layer.goBackwards, sequence);
      const read = onnxDirection(g, cell, o.layer, x!, params, '_reverse', steps, !o.layer.goBackwards, sequence);
      const backward = sequence ? reverseSteps(g, read) : read;
      return g.node('Concat', [forward, backward], { axis: -1 });
    },
  };
}
