// Keras's Conv2D on channels-last images [h, w, c] → [oh, ow, filters]; kernel [filters, in, kh, kw]
// as torch.nn.Conv2d holds it (convolution.ts has the definition both convolutions share).
import { convolutionLayer } from './convolution.ts';

export const conv2dLayer = convolutionLayer('conv2d', 2, 'Conv2D');
