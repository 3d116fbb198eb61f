// The Node adapter: checkpoints on disk. The runtime core stays web-standard; file access is
// here. A save is atomic and durable: the bytes go to a temp file in the same directory (a name
// no other save can pick: pid and random suffix), are fsynced, renamed over the target, and the
// directory is fsynced so the rename itself survives a power loss. A crash or a full disk never
// leaves half a checkpoint where a good one was; temp files of saves that were killed are
// removed by the next save to the same path.
import { randomBytes } from 'node:crypto';
import { open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { loadCheckpoint, modelCheckpoint, saveCheckpoint, type CheckpointInfo, type SaveOptions } from './checkpoint.ts';
import type { Callback, ModelCheckpointOptions } from './callbacks.ts';
import type { Trainer } from './trainer.ts';

/** Temp files of this process's saves still in progress: never stale. */
const inFlight = new Set<string>();

/** A temp file left by a killed save is this old at least, or its process is gone. */
const STALE_MS = 24 * 60 * 60 * 1000;

const tempPattern = (name: string): RegExp => new RegExp(`^\\.${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.(\\d+)\\.[0-9a-f]+\\.tmp$`);

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes temp files of earlier saves to `path` whose process has ended (or that are a day old). Best effort. */
async function removeStaleTemps(path: string): Promise<void> {
  const dir = dirname(path);
  const pattern = tempPattern(basename(path));
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const match = pattern.exec(name);
    if (!match) continue;
    const temp = join(dir, name);
    if (inFlight.has(temp)) continue;
    const pid = Number(match[1]);
    let stale = pid === process.pid || !processAlive(pid);
    if (!stale) stale = await stat(temp).then((s) => Date.now() - s.mtimeMs > STALE_MS, () => false);
    if (stale) await rm(temp, { force: true }).catch(() => undefined);
  }
}

/** fsync of a directory, so a rename in it is durable. Some platforms (Windows) cannot open one: skipped there. */
async function syncDirectory(dir: string): Promise<void> {
  let handle;
  try {
    handle = await open(dir, 'r');
  } catch {
    return;
  }
  try {
    await handle.sync();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EINVAL' && code !== 'EPERM' && code !== 'EISDIR' && code !== 'EBADF') throw err;
  } finally {
    await handle.close();
  }
}

/** Writes all of `data` to `path` or nothing: a reader never sees a partial file there. */
export async function writeFileAtomic(path: string, data: Uint8Array): Promise<void> {
  await removeStaleTemps(path);
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(8).toString('hex')}.tmp`);
  inFlight.add(temp);
  try {
    const handle = await open(temp, 'wx');
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
    await syncDirectory(dirname(path));
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  } finally {
    inFlight.delete(temp);
  }
}

export async function saveCheckpointFile(path: string, trainer: Trainer, options: SaveOptions = {}): Promise<void> {
  await writeFileAtomic(path, await saveCheckpoint(trainer, options));
}

export async function loadCheckpointFile(path: string, trainer: Trainer): Promise<CheckpointInfo> {
  return loadCheckpoint(trainer, await readFile(path));
}

/**
 * modelCheckpoint writing files atomically: `path` may hold `{epoch}` (e.g. 'ckpt-{epoch}.safetensors'),
 * else each save replaces the one file (with saveBestOnly: the best epoch's). Use with fitAsync.
 */
export function fileCheckpoint(path: string, options: Omit<ModelCheckpointOptions, 'write'> = {}): Callback {
  return modelCheckpoint({ ...options, write: (bytes, log) => writeFileAtomic(path.replaceAll('{epoch}', String(log.epoch)), bytes) });
}
