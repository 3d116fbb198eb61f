// jax-js's wasm device, started once: web-standard only, so the Node benches and the W7 browser
// page share it.
import { defaultDevice, init } from '@jax-js/jax';

/** jax-js's wasm backend starts a Worker pool only where both globals exist (Node has no global Worker). */
export const jaxThreads = (): string =>
  typeof SharedArrayBuffer !== 'undefined' && typeof Worker !== 'undefined' ? 'a Worker pool' : 'one thread (no global Worker here)';

let ready: Promise<string> | undefined;

/**
 * Starts the wasm device only: `init()` with no arguments also probes WebGPU, which reads the
 * browser global `navigator` and throws a ReferenceError under Node 20. Resolves to the device
 * the arrays then live on (`defaultDevice()`), so the bench can say what actually ran.
 */
export function initJax(): Promise<string> {
  ready ??= (async () => {
    const devices = await init('wasm');
    if (!devices.includes('wasm')) throw new Error(`jax-js: the wasm device did not start (devices: ${devices.join(', ') || 'none'})`);
    defaultDevice('wasm');
    return defaultDevice();
  })();
  return ready;
}
