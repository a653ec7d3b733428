import { randomBytes } from 'node:crypto';
import { linkSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { processExists } from './process';

/**
 * Writes `data` to `file` so that a reader, or the next process after a crash, sees either the
 * old content or the new, never part of it: written to a temporary file beside it, then renamed
 * over it (a rename within one folder is atomic).
 *
 * @param flag `wx` fails with EEXIST when `file` exists, as an exclusive create does (the
 *   temporary file is hard-linked into place, which fails on an existing target).
 */
export function writeFileAtomic(file: string, data: string, flag: 'w' | 'wx' = 'w'): void {
  const temporary = `${file}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(temporary, data);
  try {
    if (flag === 'wx') linkSync(temporary, file);
    else renameSync(temporary, file);
  } finally {
    rmSync(temporary, { force: true });
  }
}

/** Thrown for a local state file that cannot be read as what it should hold. */
export class DamagedStateError extends Error {
  constructor(
    readonly file: string,
    reason: string,
  ) {
    super(`${file} is damaged (${reason}): a process stopped while writing it; move it away or delete it`);
    this.name = 'DamagedStateError';
  }
}

/** Reads a JSON file of the local state, naming the file when it is damaged. */
export function readJsonFile<T>(file: string): T {
  const text = readFileSync(file, 'utf8');
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    throw new DamagedStateError(file, (error as Error).message);
  }
}

/**
 * Takes the lock file `file` for this process: returns its release, or undefined while another
 * live process holds it. The lock of a process that is gone is broken, so a crash never leaves
 * one behind for good.
 */
export function tryLock(file: string): (() => void) | undefined {
  try {
    writeFileAtomic(file, String(process.pid), 'wx');
    return () => rmSync(file, { force: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  let holder: number;
  try {
    holder = Number(readFileSync(file, 'utf8'));
  } catch {
    // Released meanwhile.
    return undefined;
  }
  if (!Number.isInteger(holder) || !processExists(holder)) rmSync(file, { force: true });
  return undefined;
}

/** Runs `fn` holding the lock file `file`, waiting for it while another process holds it. */
export async function withLock<T>(file: string, fn: () => Promise<T>, waitMs = 10 * 60_000): Promise<T> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const release = tryLock(file);
    if (release) {
      try {
        return await fn();
      } finally {
        release();
      }
    }
    if (Date.now() > deadline) throw new Error(`${file} is still held by another process after ${Math.round(waitMs / 1000)} s: stop it, or delete the file if no sluice runs`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
