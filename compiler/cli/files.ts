// File access for the CLI: reads that fail with the file's name and a plain reason, and an
// atomic write (temp file in the same directory, then rename) so a crash never leaves half a .wasm.
import { randomBytes } from 'node:crypto';
import { accessSync, closeSync, constants, fsyncSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { CliError } from './errors.ts';

function reason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT':
      return 'no such file';
    case 'EISDIR':
      return 'is a directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    default:
      return (err as Error).message;
  }
}

/**
 * The largest text input (CSV, JSON) the CLI reads, and the most a gzipped one may expand to: 256 MiB. Past
 * it a file is refused by name before it exhausts memory (a 1.4 MB gzip bomb expanded to
 * 700 MB and failed with "Cannot create a string longer than ..."). NABLA_MAX_INPUT_BYTES changes it.
 */
export function maxInputBytes(): number {
  const env = Number(process.env.NABLA_MAX_INPUT_BYTES);
  return Number.isSafeInteger(env) && env > 0 ? env : 256 * 2 ** 20;
}

const sizeText = (bytes: number): string => (bytes >= 2 ** 20 ? `${(bytes / 2 ** 20).toFixed(0)} MiB` : `${bytes} bytes`);

/** A file's bytes; `limit` (text inputs: maxInputBytes()) refuses a bigger file before reading it. */
export function readBytes(path: string, limit = Infinity): Uint8Array<ArrayBuffer> {
  let size: number;
  try {
    size = statSync(path).size;
  } catch (err) {
    throw new CliError(`cannot read ${path}: ${reason(err)}`);
  }
  if (size > limit) throw new CliError(`cannot read ${path}: ${sizeText(size)} is above the ${sizeText(limit)} input limit (set NABLA_MAX_INPUT_BYTES to raise it)`);
  try {
    // Node's file reads never return shared memory.
    return readFileSync(path) as Uint8Array<ArrayBuffer>;
  } catch (err) {
    throw new CliError(`cannot read ${path}: ${reason(err)}`);
  }
}

/** Reads a text file, gunzipping it when it starts with the gzip magic bytes (so `.gz` or not). */
export function readText(path: string): string {
  let bytes: Uint8Array = readBytes(path, maxInputBytes());
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    const limit = maxInputBytes();
    try {
      bytes = gunzipSync(bytes, { maxOutputLength: limit });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
        throw new CliError(`cannot read ${path}: it decompresses to more than the ${sizeText(limit)} input limit (set NABLA_MAX_INPUT_BYTES to raise it)`);
      }
      throw new CliError(`cannot read ${path}: not valid gzip data (${(err as Error).message})`);
    }
  } else if (path.endsWith('.gz')) {
    throw new CliError(`cannot read ${path}: named .gz but not gzip data`);
  }
  return new TextDecoder().decode(bytes);
}

export function readJson(path: string): unknown {
  const text = readText(path);
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new CliError(`${path}: invalid JSON: ${(err as Error).message}`);
  }
}

/** Refuses, before any work, an output path whose directory is missing or not writable, or that is a directory. */
export function checkWritable(path: string, what: string): void {
  const dir = dirname(path);
  try {
    if (statSync(path, { throwIfNoEntry: false })?.isDirectory()) throw new CliError(`${what} ${path} is a directory`);
    if (!statSync(dir).isDirectory()) throw new CliError(`${what} ${path}: ${dir} is not a directory`);
    accessSync(dir, constants.W_OK);
  } catch (err) {
    if (err instanceof CliError) throw err;
    const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? `no such directory ${dir}` : reason(err);
    throw new CliError(`cannot write ${what} ${path}: ${why}`);
  }
}

/** Writes all of `data` or nothing: a reader never sees a partial file at `path`. */
export function writeAtomic(path: string, data: Uint8Array): void {
  // pid and a random suffix: two writers to one path never share a temp file. fsync of the file
  // before the rename and of the directory after it: the new file survives a power loss.
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(8).toString('hex')}.tmp`);
  try {
    const fd = openSync(temp, 'wx');
    try {
      writeFileSync(fd, data);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, path);
    syncDirectory(dirname(path));
  } catch (err) {
    rmSync(temp, { force: true });
    const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? `no such directory ${dirname(path)}` : reason(err);
    throw new CliError(`cannot write ${path}: ${why}`);
  }
}

/** Best effort: some platforms (Windows) cannot open or fsync a directory. */
function syncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // The file itself is synced; only the rename's durability is left to the OS.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
