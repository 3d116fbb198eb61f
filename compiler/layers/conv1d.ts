// Keras's Conv1D on channels-last sequences [steps, c] → [positions, filters]; kernel
// [filters, in, k] as torch.nn.Conv1d holds it (convolution.ts has the shared definition).
import { convolutionLayer } from './convolution.ts';

export const conv1dLayer = convolutionLayer('conv1d', 1, 'Conv1D');
