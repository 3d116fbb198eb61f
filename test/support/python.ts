// The Python with torch that the PyTorch comparison tests run: NABLA_PYTHON, else python3. Without
// one a test file is skipped with a warning saying how to install it, except under CI=true, where
// nothing may be skipped.
import { spawnSync } from 'node:child_process';

export function torchPython(testName: string): string | null {
  for (const candidate of [process.env.NABLA_PYTHON, '/usr/bin/python3', 'python3'].filter((c): c is string => !!c)) {
    if (spawnSync(candidate, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0) return candidate;
  }
  if (process.env.CI === 'true') throw new Error(`${testName}: no python3 with torch (apt-get install python3-torch); under CI=true it may not be skipped`);
  console.warn(`${testName} skipped: no python3 with torch found (apt-get install python3-torch, or set NABLA_PYTHON)`);
  return null;
}
