// Keras's AveragePooling1D: each window's mean, per channel, over [steps, c]; with 'same' padding a border window divides by its steps inside the sequence.
import { poolingLayer } from './pooling.ts';

export const averagePooling1dLayer = poolingLayer('average_pooling1d', 'avg_pool', 1, 'AveragePooling1D');
