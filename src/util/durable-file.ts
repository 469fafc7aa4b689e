import { closeSync, fchmodSync, fsyncSync, openSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/**
 * Durable file replacement, shared by the emulator's state file and the runner's journal: a crash at any
 * point leaves the old file or the new one, never a mix.
 */

/** The name prefix of the temporary files {@link replaceFile} writes next to `path`. */
export const temporaryPrefix = (path: string): string => `${basename(path)}.tmp-`;

let temporaries = 0;

/**
 * Writes `text` to a temporary file in `path`'s folder (mode 0600), fsyncs it and renames it over `path`.
 * The folder is not synced yet: call {@link fsyncFolder} to make the rename durable. Errors: throws what
 * the file system threw; the temporary file is removed and `path` is unchanged.
 */
export const replaceFile = (path: string, text: string): void => {
  const temporary = join(dirname(path), `${temporaryPrefix(path)}${process.pid}-${++temporaries}`);
  try {
    const fd = openSync(temporary, 'w', 0o600);
    try {
      fchmodSync(fd, 0o600); // the mode of openSync is filtered by the umask
      writeFileSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, path);
  } catch (error) {
    try {
      unlinkSync(temporary);
    } catch {
      // It may not exist (openSync failed); leftovers carry the prefix and can be swept.
    }
    throw error;
  }
};

/** Fsyncs a folder, so that a rename in it survives a power loss. Errors: throws what the file system threw. */
export const fsyncFolder = (folder: string): void => {
  let fd: number;
  try {
    fd = openSync(folder, 'r');
  } catch (error) {
    // Windows cannot open a folder; its renames are durable enough for this purpose.
    if (process.platform === 'win32') return;
    throw error;
  }
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
};
