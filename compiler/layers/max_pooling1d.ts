// Keras's MaxPooling1D: the largest value of each window, per channel, over [steps, c]; its gradient goes to that element (the first on ties).
import { poolingLayer } from './pooling.ts';

export const maxPooling1dLayer = poolingLayer('max_pooling1d', 'max_pool', 1, 'MaxPooling1D');
