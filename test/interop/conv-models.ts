// Small convolutional models for the PyTorch and ONNX export tests, each crossing several layers:
// TensorFlow's 'same' padding both symmetric and with the odd pad after (bottom, right), strides,
// dilation, a depth multiplier, pooling windows that hang over the edge, global pools, zero
// padding, batch normalization on images, and a residual block. Each comment gives the padding
// the layer's input size asks for, (before, after) per spatial axis.

/** Images [9, 8, 2] through every 2-D windowed layer. */
export const imageStack = {
  name: 'image_stack',
  input: { shape: [9, 8, 2] },
  layers: [
    { type: 'zero_padding2d', padding: [[1, 0], [0, 2]] }, // → [10, 10, 2]
    { type: 'conv2d', filters: 4, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu' }, // (0, 1) both axes → [5, 5, 4]
    { type: 'batch_normalization', momentum: 0.5 },
    { type: 'depthwise_conv2d', kernelSize: 2, padding: 'same', depthMultiplier: 2, activation: 'tanh' }, // (0, 1) → [5, 5, 8]
    { type: 'max_pooling2d', poolSize: 2, padding: 'same' }, // (0, 1): the last window holds one row → [3, 3, 8]
    { type: 'separable_conv2d', filters: 3, kernelSize: 2, dilationRate: 2, padding: 'same', depthMultiplier: 2, activation: 'elu' }, // (1, 1) → [3, 3, 3]
    { type: 'average_pooling2d', poolSize: 2, strides: 1, padding: 'same' }, // (0, 1): the edge divides by fewer cells → [3, 3, 3]
    { type: 'conv2d', filters: 3, kernelSize: [2, 3], strides: [1, 2], dilationRate: [2, 1], padding: 'same' }, // rows (1, 1), columns (1, 1) → [3, 2, 3]
    { type: 'average_pooling2d', poolSize: [2, 1] }, // valid → [1, 2, 3]
    { type: 'flatten' },
    { type: 'dense', units: 3, activation: 'softmax' },
  ],
  loss: { type: 'categorical_crossentropy' },
  optimizer: { type: 'adam', learningRate: 0.01 },
};

/** A residual convolution block on [6, 6, 3] with batch norm, odd max pooling, a strided 'valid' convolution and both global 2-D pools. */
export const residualBlock = {
  name: 'residual_block',
  inputs: [{ name: 'image', shape: [6, 6, 3] }],
  nodes: [
    { type: 'conv2d', name: 'c1', filters: 3, kernelSize: 3, padding: 'same', activation: 'relu', inputs: ['image'] }, // (1, 1)
    { type: 'conv2d', name: 'c2', filters: 3, kernelSize: 3, padding: 'same', useBias: false, inputs: ['c1'] },
    { type: 'add', name: 'sum', inputs: ['c2', 'image'] },
    { type: 'batch_normalization', name: 'bn', inputs: ['sum'] },
    { type: 'max_pooling2d', name: 'pool', poolSize: 3, strides: 2, inputs: ['bn'] }, // valid → [2, 2, 3]
    { type: 'global_average_pooling2d', name: 'gap', inputs: ['pool'] },
    { type: 'conv2d', name: 'c3', filters: 3, kernelSize: 2, strides: 2, activation: 'sigmoid', inputs: ['bn'] }, // valid → [3, 3, 3]
    { type: 'global_max_pooling2d', name: 'gmp', inputs: ['c3'] },
    { type: 'concatenate', name: 'cat', inputs: ['gap', 'gmp'] },
    { type: 'dense', name: 'out', units: 2, inputs: ['cat'] },
  ],
  outputs: [{ node: 'out', loss: { type: 'mse' } }],
  optimizer: { type: 'sgd', learningRate: 0.05, momentum: 0.9 },
};

/** Sequences [9, 2] through the 1-D layers. */
export const sequenceStack = {
  name: 'sequence_stack',
  input: { shape: [9, 2] },
  layers: [
    { type: 'conv1d', filters: 3, kernelSize: 3, dilationRate: 2, padding: 'same', activation: 'tanh' }, // (2, 2) → [9, 3]
    { type: 'average_pooling1d', poolSize: 2, padding: 'same' }, // (0, 1) → [5, 3]
    { type: 'conv1d', filters: 4, kernelSize: 2, strides: 2, padding: 'same' }, // (0, 1) → [3, 4]
    { type: 'max_pooling1d', poolSize: 2, strides: 1 }, // valid → [2, 4]
    { type: 'batch_normalization' },
    { type: 'global_average_pooling1d', keepdims: true }, // → [1, 4]
    { type: 'flatten' },
    { type: 'dense', units: 2 },
  ],
  loss: { type: 'mse' },
};

export const convModels: readonly [string, unknown][] = [
  ['images through every 2-D windowed layer, same padding with the odd pad after', imageStack],
  ['a residual convolution block with batch norm and the global 2-D pools', residualBlock],
  ['sequences through the 1-D convolution and pools', sequenceStack],
];
