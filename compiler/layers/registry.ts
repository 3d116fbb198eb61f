// The layer table: every layer type a spec may name. The spec schema, the builders' shape checks,
// the DAG, lowering and the summary all read it; none of them names a layer type.
import { activationLayer } from './activation.ts';
import { addLayer } from './add.ts';
import { batchNormalizationLayer } from './batch_normalization.ts';
import { concatenateLayer } from './concatenate.ts';
import { conv1dLayer } from './conv1d.ts';
import { conv2dLayer } from './conv2d.ts';
import { denseLayer } from './dense.ts';
import { depthwiseConv2dLayer } from './depthwise_conv2d.ts';
import { dropoutLayer } from './dropout.ts';
import { embeddingLayer } from './embedding.ts';
import { flattenLayer } from './flatten.ts';
import type { AnyLayerDef } from './layer.ts';
import { averagePooling1dLayer } from './average_pooling1d.ts';
import { averagePooling2dLayer } from './average_pooling2d.ts';
import { globalAveragePooling1dLayer } from './global_average_pooling1d.ts';
import { globalAveragePooling2dLayer } from './global_average_pooling2d.ts';
import { globalMaxPooling2dLayer } from './global_max_pooling2d.ts';
import { maxPooling1dLayer } from './max_pooling1d.ts';
import { maxPooling2dLayer } from './max_pooling2d.ts';
import { zeroPadding2dLayer } from './zero_padding2d.ts';
import { layerNormalizationLayer } from './layer_normalization.ts';
import { multiplyLayer } from './multiply.ts';
import { multiHeadAttentionLayer } from './multi_head_attention.ts';
import { positionEmbeddingLayer } from './position_embedding.ts';
import { transformerBlockLayer } from './transformer_block.ts';
import { reshapeLayer } from './reshape.ts';
import { separableConv2dLayer } from './separable_conv2d.ts';
import { simpleRnnLayer } from './simple_rnn.ts';
import { lstmLayer } from './lstm.ts';
import { gruLayer } from './gru.ts';
import { bidirectionalLayer } from './bidirectional.ts';
import { repeatVectorLayer } from './repeat_vector.ts';

/** The built-in layers, in the order error messages list them. */
export const builtinLayers = [
  denseLayer,
  activationLayer,
  layerNormalizationLayer,
  batchNormalizationLayer,
  dropoutLayer,
  flattenLayer,
  embeddingLayer,
  reshapeLayer,
  addLayer,
  multiplyLayer,
  concatenateLayer,
  conv2dLayer,
  conv1dLayer,
  depthwiseConv2dLayer,
  separableConv2dLayer,
  maxPooling2dLayer,
  averagePooling2dLayer,
  maxPooling1dLayer,
  averagePooling1dLayer,
  globalAveragePooling2dLayer,
  globalMaxPooling2dLayer,
  globalAveragePooling1dLayer,
  zeroPadding2dLayer,
  simpleRnnLayer,
  lstmLayer,
  gruLayer,
  bidirectionalLayer,
  repeatVectorLayer,
  multiHeadAttentionLayer,
  positionEmbeddingLayer,
  transformerBlockLayer,
] as const;

const table = new Map<string, AnyLayerDef>(builtinLayers.map((def): [string, AnyLayerDef] => [def.type, def]));
let generation = 0;

/** Names the graph form uses for its own nodes; no layer may take them. */
const RESERVED = new Set(['apply']);

/**
 * Adds a layer type (a custom layer composed of IR ops: it gets the spec schema, both builders,
 * shape checks, gradients, compilation and the summary like a built-in one). A type already taken
 * is refused, never overwritten. Returns a function that removes it again.
 */
export function registerLayer(layer: AnyLayerDef): () => void {
  if (!/^[a-z][a-z0-9_]*$/.test(layer.type)) throw new Error(`registerLayer: layer type '${layer.type}' must be snake_case (a-z, 0-9, _)`);
  if (table.has(layer.type) || RESERVED.has(layer.type)) throw new Error(`registerLayer: layer type '${layer.type}' is already defined`);
  table.set(layer.type, layer);
  generation++;
  return () => {
    if (table.get(layer.type) === layer) {
      table.delete(layer.type);
      generation++;
    }
  };
}

/** Every layer type, built-in ones first. */
export function layerDefs(): readonly AnyLayerDef[] {
  return [...table.values()];
}

/** The definition of a layer type the spec schema has admitted. */
export function layerDef(type: string): AnyLayerDef {
  const def = table.get(type);
  if (!def) throw new Error(`internal: unknown layer type '${type}'`);
  return def;
}

/** Changes whenever the table does: what schemas derived from it are cached by. */
export function layerTableGeneration(): number {
  return generation;
}
