// Keras's GlobalMaxPooling2D: each channel's maximum over the image, [h, w, c] → [c]; its gradient goes to that pixel (the first in scan order on ties).
import { globalPoolingLayer } from './global_pooling.ts';

export const globalMaxPooling2dLayer = globalPoolingLayer('global_max_pooling2d', 'max', 2, 'GlobalMaxPooling2D');
