// Keras's MaxPooling2D: the largest value of each window, per channel, over [h, w, c]; its gradient goes to that element (the first in scan order on ties).
import { poolingLayer } from './pooling.ts';

export const maxPooling2dLayer = poolingLayer('max_pooling2d', 'max_pool', 2, 'MaxPooling2D');
