// The learned scale γ and shift β that both normalization layers apply after normalizing
// (`scale`, `center` options): their parameters, their IR and ONNX forms, and their Keras names.
import { z } from 'zod';
import type { GraphBuilder } from '../ir/builder.ts';
import type { NodeId } from '../ir/types.ts';
import type { FeatureShape, ParamDecl } from './layer.ts';
import type { OnnxEmitter } from './interop/types.ts';

export const scaleShiftOptions = {
  center: z.boolean().default(true),
  scale: z.boolean().default(true),
};

interface ScaleShift {
  readonly center: boolean;
  readonly scale: boolean;
}

/** γ = `<layer>.weight` (ones) and β = `<layer>.bias` (zeros), each where its option asks for it. */
export function scaleShiftParams(o: ScaleShift, features: FeatureShape): ParamDecl[] {
  return [
    ...(o.scale ? [{ suffix: 'weight', shape: features, init: { type: 'ones' as const } }] : []),
    ...(o.center ? [{ suffix: 'bias', shape: features, init: { type: 'zeros' as const } }] : []),
  ];
}

/** y·γ + β, each factor only where the layer has it. */
export function scaleShift(b: GraphBuilder, y: NodeId, gamma: NodeId | null, beta: NodeId | null): NodeId {
  const scaled = gamma === null ? y : b.op('mul', [y, gamma]);
  return beta === null ? scaled : b.op('add', [scaled, beta]);
}

/** The same in ONNX, reading the initializers `params` names. */
export function onnxScaleShift(g: OnnxEmitter, y: string, params: Readonly<Record<string, string>>): string {
  const scaled = params['weight'] === undefined ? y : g.node('Mul', [y, params['weight']]);
  return params['bias'] === undefined ? scaled : g.node('Add', [scaled, params['bias']]);
}

/** Keras's names for γ and β. */
export function scaleShiftKerasWeights(o: ScaleShift): { keras: string; suffix: string }[] {
  return [...(o.scale ? [{ keras: 'gamma', suffix: 'weight' }] : []), ...(o.center ? [{ keras: 'beta', suffix: 'bias' }] : [])];
}
