// Whether this host runs relaxed SIMD, and the re-run of the bench under Node 20's flag.
import { spawnSync } from 'node:child_process';
import { relaxedSimd } from '../runtime/relaxed_simd.ts';

export { relaxedSimd };

const FLAG = '--experimental-wasm-relaxed-simd';

/**
 * On a host without relaxed SIMD (Node 20), runs this same script again with the flag that
 * enables it, and returns its exit code; null where the flag is already on, refused or useless.
 */
export function rerunWithRelaxedSimd(): number | null {
  if (relaxedSimd() || process.execArgv.includes(FLAG)) return null;
  const child = spawnSync(process.execPath, [FLAG, ...process.execArgv, process.argv[1]!, ...process.argv.slice(2)], { stdio: 'inherit' });
  return child.status === 0 ? 0 : null;
}
