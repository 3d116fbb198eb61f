// Keras's GlobalAveragePooling2D: each channel's mean over the image, [h, w, c] → [c].
import { globalPoolingLayer } from './global_pooling.ts';

export const globalAveragePooling2dLayer = globalPoolingLayer('global_average_pooling2d', 'average', 2, 'GlobalAveragePooling2D');
