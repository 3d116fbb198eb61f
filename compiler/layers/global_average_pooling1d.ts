// Keras's GlobalAveragePooling1D: each channel's mean over the steps, [steps, c] → [c].
import { globalPoolingLayer } from './global_pooling.ts';

export const globalAveragePooling1dLayer = globalPoolingLayer('global_average_pooling1d', 'average', 1, 'GlobalAveragePooling1D');
