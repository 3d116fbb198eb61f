// Keras's AveragePooling2D: each window's mean, per channel, over [h, w, c]; with 'same' padding a border window divides by its cells inside the image, as TensorFlow.
import { poolingLayer } from './pooling.ts';

export const averagePooling2dLayer = poolingLayer('average_pooling2d', 'avg_pool', 2, 'AveragePooling2D');
