// Accuracy from predictions, by what the loss says the outputs mean.
import type { LossInfo } from './manifest.ts';

/**
 * Number of correct rows, or null where accuracy means nothing (regression). A prediction of
 * [rows, steps, classes] is right or wrong per position, and each row counts the share of its
 * positions that are right (Keras's accuracy on a per-position output: the mean over positions).
 */
export function countCorrect(loss: LossInfo, prediction: Float64Array | Float32Array, labels: Float64Array, rows: number, classes: number): number | null {
  const width = prediction.length / rows;
  const positions = prediction.length / classes;
  const perRow = positions / rows;
  switch (loss.type) {
    case 'mse':
    case 'mae':
    case 'huber':
      return null;
    case 'binary_crossentropy': {
      // Probabilities split at 0.5, logits at 0.
      const threshold = loss.fromLogits ? 0 : 0.5;
      let correct = 0;
      for (let i = 0; i < prediction.length; i++) if ((prediction[i]! > threshold ? 1 : 0) === (labels[i]! > 0.5 ? 1 : 0)) correct++;
      return correct / width;
    }
    case 'sparse_categorical_crossentropy': {
      let correct = 0;
      for (let r = 0; r < positions; r++) if (argmax(prediction, r, classes) === labels[r]) correct++;
      return correct / perRow;
    }
    case 'categorical_crossentropy': {
      // One-hot (or soft) targets: the predicted class is right where it is the target's largest.
      let correct = 0;
      for (let r = 0; r < positions; r++) if (argmax(prediction, r, classes) === argmax(labels, r, classes)) correct++;
      return correct / perRow;
    }
  }
}

function argmax(values: Float64Array | Float32Array, row: number, width: number): number {
  let best = 0;
  for (let c = 1; c < width; c++) if (values[row * width + c]! > values[row * width + best]!) best = c;
  return best;
}
