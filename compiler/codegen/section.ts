// Appending a custom section (id 0) to a wasm binary: the manifest travels inside the .wasm.

function leb128(value: number): number[] {
  const out: number[] = [];
  do {
    let byte = value & 0x7f;
    value >>>= 7;
    if (value !== 0) byte |= 0x80;
    out.push(byte);
  } while (value !== 0);
  return out;
}

export function appendCustomSection(wasm: Uint8Array, name: string, payload: Uint8Array): Uint8Array<ArrayBuffer> {
  const nameBytes = new TextEncoder().encode(name);
  const body = [...leb128(nameBytes.length), ...nameBytes];
  const size = body.length + payload.length;
  const header = [0, ...leb128(size)];
  const out = new Uint8Array(wasm.length + header.length + body.length + payload.length);
  out.set(wasm, 0);
  out.set(header, wasm.length);
  out.set(body, wasm.length + header.length);
  out.set(payload, wasm.length + header.length + body.length);
  return out;
}
