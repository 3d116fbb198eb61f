// The Node adapter: checkpoints on disk. The runtime core stays web-standard; file access is
// here, and the write is atomic (a temp file in the same directory, then rename) so a crash or
// a full disk never leaves half a checkpoint where a good one was.
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { loadCheckpoint, saveCheckpoint, type CheckpointInfo } from './checkpoint.ts';
import type { Trainer } from './trainer.ts';

/** Writes all of `data` to `path` or nothing: a reader never sees a partial file there. */
export async function writeFileAtomic(path: string, data: Uint8Array): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  try {
    await writeFile(temp, data);
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}

export async function saveCheckpointFile(path: string, trainer: Trainer, options: { readonly step?: number } = {}): Promise<void> {
  await writeFileAtomic(path, await saveCheckpoint(trainer, options));
}

export async function loadCheckpointFile(path: string, trainer: Trainer): Promise<CheckpointInfo> {
  return loadCheckpoint(trainer, await readFile(path));
}
