import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Vitest's default, one worker fewer than the cores, is a single worker on a 2-core machine,
    // leaving a core idle: the tests are compile-bound (asc runs on one thread), so use them all.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    // Test files share their worker's modules: AssemblyScript's compiler warms up (loads and JITs
    // asc and binaryen, seconds) once per worker instead of once per file. No test leaves global
    // state behind (op substitution and console spies restore themselves).
    isolate: false,
    reporters: ['default'],
  },
});
