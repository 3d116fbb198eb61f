// Documented limits are refused with a SpecError that names the limit, before AssemblyScript
// runs (past 4 GiB it failed with i64-to-usize conversion errors, reported as an internal error).
import { describe, expect, it } from 'vitest';
import { compileToWasm, MAX_MEMORY_BYTES } from '../../compiler/compile.ts';
import { SpecError } from '../../compiler/model/spec_error.ts';

const wide = (units: number, batchSize = 8): object => ({
  name: 'wide',
  input: { shape: [units] },
  layers: [{ type: 'dense', name: 'big', units }, { type: 'dense', units: 2 }],
  loss: { type: 'mse' },
  batchSize,
});

describe('model size limit', () => {
  it('is the wasm32 address space: 4 GiB', () => {
    expect(MAX_MEMORY_BYTES).toBe(2 ** 32);
  });

  it('a model past 4 GiB of memory is a SpecError naming the limit and the largest parameter', async () => {
    const started = performance.now();
    const error = await compileToWasm(wide(25000)).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(SpecError);
    expect((error as Error).message).toMatch(/model too large: the trainer needs 4\.\d\d GiB of memory .* above the wasm32 limit of 4 GiB .* largest parameters: big\.weight 2\.33 GiB/);
    // Refused from the plan, without running AssemblyScript.
    expect(performance.now() - started).toBeLessThan(5000);
  });
});
