// Whether this host runs relaxed SIMD, and the re-run of the bench under Node 20's flag.
import { spawnSync } from 'node:child_process';

// A module whose one function returns f32x4.relaxed_madd(0, 0, 0): valid only with relaxed SIMD.
const probe = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b,
  0x03, 0x02, 0x01, 0x00,
  0x0a, 0x3d, 0x01, 0x3b, 0x00,
  ...[0, 1, 2].flatMap(() => [0xfd, 0x0c, ...new Array<number>(16).fill(0)]),
  0xfd, 0x85, 0x02, 0x0b,
]);

export const relaxedSimd = (): boolean => WebAssembly.validate(probe);

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
