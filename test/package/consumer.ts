// A TypeScript consumer of every public entry of the packed `nabla`: the test type-checks it with
// `module`/`moduleResolution` nodenext, strict, and without skipLibCheck.
import { compile, compileToWasm, sequential, dense, input, losses, optimizers, type CompileResult, type Trainer } from 'nabla';
import { compileFile, readSpecFile } from 'nabla/node';
import { loadTrainer, type Manifest, type Tensor } from 'nabla/runtime';
import { saveCheckpointFile } from 'nabla/runtime/node';

const spec = sequential({
  input: input([2]),
  layers: [dense(4, { activation: 'relu' }), dense(1)],
  loss: losses.mse(),
  optimizer: optimizers.adam({ learningRate: 0.01 }),
  batchSize: 2,
});
const trainer: Trainer = await compile(spec);
const loss: number = trainer.trainStep([[1, 2], [3, 4]], [[1], [0]]);
const prediction: Tensor = trainer.predict([[1, 2]]);
const compiled: CompileResult = await compileToWasm(spec);
const manifest: Manifest = (await loadTrainer(compiled.wasm)).manifest;
const fromFile: Trainer = await compileFile('model.json');
await saveCheckpointFile('model.safetensors', fromFile);
console.log(loss, prediction.shape, manifest.batchSize, await readSpecFile('model.json'));
