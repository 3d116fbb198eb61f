// The safetensors format, bytes in and bytes out, with web-standard APIs only:
//   8 bytes   N, the header's length, unsigned 64-bit little-endian
//   N bytes   UTF-8 JSON: { "<tensor>": { "dtype": "F32", "shape": [..], "data_offsets": [begin, end] },
//                           "__metadata__": { "<key>": "<string>" } }
//   the rest  the tensors' bytes, little-endian, row-major; offsets count from the end of the header
// Decoding checks everything the format promises (sizes, offsets inside the buffer, no holes, no
// overlaps) and names the tensor and the field at fault, so a damaged file fails before any
// value is used. https://github.com/huggingface/safetensors describes the format.
import { InputError } from './errors.ts';
import { product, shapeText } from './tensor.ts';

/** Bytes per element of the dtypes the format defines. nabla itself writes only F32 (and I32). */
export const DTYPE_BYTES: Readonly<Record<string, number>> = {
  BOOL: 1, U8: 1, I8: 1, F8_E5M2: 1, F8_E4M3: 1,
  I16: 2, U16: 2, F16: 2, BF16: 2,
  I32: 4, U32: 4, F32: 4,
  I64: 8, U64: 8, F64: 8,
};

/** The reference implementation's limit: a header beyond it is a damaged or hostile file. */
export const MAX_HEADER_BYTES = 100_000_000;

export interface StoredTensor {
  readonly dtype: string;
  readonly shape: readonly number[];
  /** Little-endian element bytes (a view into the file's bytes when decoded). */
  readonly data: Uint8Array;
}

export interface Safetensors {
  readonly tensors: ReadonlyMap<string, StoredTensor>;
  readonly metadata: Readonly<Record<string, string>>;
  /** The data section: every tensor's bytes, after the header (a view into the file's bytes). */
  readonly data: Uint8Array;
}

export class SafetensorsError extends InputError {
  override name = 'SafetensorsError';
}

/** Writes tensors in the order given, the header padded with spaces to 8 bytes as the reference writer does. */
export function encodeSafetensors(tensors: ReadonlyMap<string, StoredTensor>, metadata: Record<string, string> = {}): Uint8Array<ArrayBuffer> {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, t] of tensors) {
    const expected = product(t.shape) * (DTYPE_BYTES[t.dtype] ?? NaN);
    if (t.data.length !== expected) throw new SafetensorsError(`tensor '${name}': ${t.data.length} bytes for ${t.dtype} ${shapeText(t.shape)}, expected ${expected}`);
    header[name] = { dtype: t.dtype, shape: [...t.shape], data_offsets: [offset, offset + t.data.length] };
    offset += t.data.length;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) json = new TextEncoder().encode(JSON.stringify(header) + ' '.repeat(padded - json.length));
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const t of tensors.values()) {
    out.set(t.data, at);
    at += t.data.length;
  }
  return out;
}

function parseHeader(bytes: Uint8Array): { header: Record<string, unknown>; dataStart: number } {
  if (bytes.length < 8) throw new SafetensorsError(`safetensors: ${bytes.length} bytes is too short for the 8-byte header length`);
  const size = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (size > BigInt(MAX_HEADER_BYTES)) throw new SafetensorsError(`safetensors: header length ${size} exceeds the ${MAX_HEADER_BYTES}-byte limit; the file is damaged or not safetensors`);
  const length = Number(size);
  if (8 + length > bytes.length) throw new SafetensorsError(`safetensors: header length ${length} runs past the end of the ${bytes.length}-byte file (truncated?)`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + length)));
  } catch (err) {
    throw new SafetensorsError(`safetensors: the header is not valid UTF-8 JSON: ${(err as Error).message}`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw new SafetensorsError('safetensors: the header is not a JSON object');
  return { header: header as Record<string, unknown>, dataStart: 8 + length };
}

function readMetadata(value: unknown): Record<string, string> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new SafetensorsError('safetensors: __metadata__ must be an object of strings');
  for (const [k, v] of Object.entries(value)) if (typeof v !== 'string') throw new SafetensorsError(`safetensors: __metadata__.${k} must be a string, got ${JSON.stringify(v)}`);
  return value as Record<string, string>;
}

function readEntry(name: string, value: unknown, dataBytes: number): { dtype: string; shape: number[]; begin: number; end: number } {
  const where = `safetensors: tensor '${name}'`;
  if (typeof value !== 'object' || value === null) throw new SafetensorsError(`${where}: expected an object with dtype, shape and data_offsets`);
  const { dtype, shape, data_offsets: offsets } = value as Record<string, unknown>;
  if (typeof dtype !== 'string' || DTYPE_BYTES[dtype] === undefined) throw new SafetensorsError(`${where}: unknown dtype ${JSON.stringify(dtype)}`);
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw new SafetensorsError(`${where}: shape must be a list of non-negative integers, got ${JSON.stringify(shape)}`);
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
    throw new SafetensorsError(`${where}: data_offsets must be [begin, end], got ${JSON.stringify(offsets)}`);
  }
  const [begin, end] = offsets as [number, number];
  const expected = product(shape as number[]) * DTYPE_BYTES[dtype]!;
  if (end - begin !== expected) throw new SafetensorsError(`${where}: data_offsets [${begin}, ${end}] hold ${end - begin} bytes, but ${dtype} ${shapeText(shape as number[])} needs ${expected}`);
  if (end > dataBytes) throw new SafetensorsError(`${where}: data_offsets [${begin}, ${end}] run past the ${dataBytes} data bytes (truncated?)`);
  return { dtype, shape: shape as number[], begin, end };
}

/** Parses and checks a whole file. Tensor data are views into `bytes`, not copies. */
export function decodeSafetensors(bytes: Uint8Array): Safetensors {
  const { header, dataStart } = parseHeader(bytes);
  const dataBytes = bytes.length - dataStart;
  const metadata = readMetadata(header.__metadata__);
  const entries = Object.entries(header)
    .filter(([name]) => name !== '__metadata__')
    .map(([name, value]) => ({ name, ...readEntry(name, value, dataBytes) }))
    .sort((a, b) => a.begin - b.begin || a.end - b.end);
  // The format forbids holes and overlaps: the tensors tile the data section exactly.
  let covered = 0;
  for (const e of entries) {
    if (e.begin !== covered) {
      throw new SafetensorsError(`safetensors: tensor '${e.name}' starts at byte ${e.begin} of the data, expected ${covered} (${e.begin < covered ? 'overlap' : 'hole'})`);
    }
    covered = e.end;
  }
  if (covered !== dataBytes) throw new SafetensorsError(`safetensors: the tensors cover ${covered} of ${dataBytes} data bytes; the file has trailing bytes`);
  const tensors = new Map<string, StoredTensor>();
  for (const e of entries) tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data: bytes.subarray(dataStart + e.begin, dataStart + e.end) });
  return { tensors, metadata, data: bytes.subarray(dataStart) };
}
