// Whether this host runs relaxed SIMD (f32x4.relaxed_madd): Node 20 only behind a flag; Node ≥ 22,
// Deno, Chromium and workerd by default. Asked of the host by validating a tiny module, never assumed.

// A module whose one function returns f32x4.relaxed_madd(0, 0, 0): valid only with relaxed SIMD.
const probe = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b,
  0x03, 0x02, 0x01, 0x00,
  0x0a, 0x3d, 0x01, 0x3b, 0x00,
  ...[0, 1, 2].flatMap(() => [0xfd, 0x0c, ...new Array<number>(16).fill(0)]),
  0xfd, 0x85, 0x02, 0x0b,
]);

let answer: boolean | undefined;

export function relaxedSimd(): boolean {
  answer ??= WebAssembly.validate(probe);
  return answer;
}
