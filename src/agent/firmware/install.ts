import { randomBytes } from 'node:crypto';
import { closeSync, copyFileSync, fsyncSync, lstatSync, mkdirSync, openSync, readFileSync, readdirSync, readlinkSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fsyncFolder } from '../../util/durable-file';

/**
 * The install folder of the firmware updater, and the only code that changes it:
 *
 * ```
 * <installDir>/downloads/<version>.part   the download in progress (resumed after a restart)
 * <installDir>/releases/<version>/<file>  one folder per installed release, written whole then renamed in
 * <installDir>/current -> releases/<v>    the active release: a relative symlink, swapped atomically
 * ```
 *
 * Every change is a rename followed by an fsync of the folder, so a power loss at any point leaves either
 * the old state or the new one: `current` always points at a complete release (or does not exist yet).
 */

/** Paths of an install folder. */
export interface InstallLayout {
  readonly installDir: string;
  readonly releasesDir: string;
  readonly downloadsDir: string;
  readonly currentLink: string;
}

/** The layout under `installDir` (made absolute). */
export const installLayout = (installDir: string): InstallLayout => {
  const root = resolve(installDir);
  return { installDir: root, releasesDir: join(root, 'releases'), downloadsDir: join(root, 'downloads'), currentLink: join(root, 'current') };
};

/** Creates the folders of `layout` if they are missing. Errors: throws what the file system threw. */
export const prepareLayout = (layout: InstallLayout): void => {
  mkdirSync(layout.releasesDir, { recursive: true });
  mkdirSync(layout.downloadsDir, { recursive: true });
};

/** Where the download of `version` is written. */
export const partFile = (layout: InstallLayout, version: string): string => join(layout.downloadsDir, `${version}.part`);

/**
 * Makes `downloads/<version>.part` safe to resume for an image of digest `sha256`: a part file left by a job
 * for another image of the same version (its `.sha256` note differs or is missing) is deleted first. Then
 * notes the digest. Errors: throws what the file system threw.
 */
export const claimPartFile = (layout: InstallLayout, version: string, sha256: string): void => {
  const part = partFile(layout, version);
  const note = `${part}.sha256`;
  let noted: string | undefined;
  try {
    noted = readFileSync(note, 'utf8');
  } catch (error) {
    if (codeOf(error) !== 'ENOENT') throw error;
  }
  if (noted === sha256) return;
  rmSync(part, { force: true });
  writeFileSync(note, sha256);
};

/** Deletes the download of `version` and its digest note. */
export const removePartFile = (layout: InstallLayout, version: string): void => {
  const part = partFile(layout, version);
  rmSync(part, { force: true });
  rmSync(`${part}.sha256`, { force: true });
};

/** The folder of an installed release. */
export const releaseDir = (layout: InstallLayout, version: string): string => join(layout.releasesDir, version);

/** What `current` points at. */
export interface CurrentRelease {
  /** The link's text, as `readlink` gives it; what a rollback restores. */
  readonly target: string;
  /** The release's name when the link points at `releases/<name>`, else null (a link made by hand). */
  readonly release: string | null;
}

// Not `instanceof Error`: errors from Node's core may come from another realm (vm contexts, Jest).
const codeOf = (error: unknown): unknown => (typeof error === 'object' && error !== null && 'code' in error ? error.code : undefined);

/**
 * Reads `current`: undefined when it does not exist. Errors: throws when `current` exists but is not a
 * symbolic link (the updater never replaces what it did not create), or what the file system threw.
 */
export const readCurrent = (layout: InstallLayout): CurrentRelease | undefined => {
  let isLink: boolean;
  try {
    isLink = lstatSync(layout.currentLink).isSymbolicLink();
  } catch (error) {
    if (codeOf(error) === 'ENOENT') return undefined;
    throw error;
  }
  if (!isLink) throw new Error(`${layout.currentLink} exists and is not a symbolic link; move it away so that the updater can manage it`);
  const target = readlinkSync(layout.currentLink);
  const absolute = resolve(layout.installDir, target);
  return { target, release: dirname(absolute) === layout.releasesDir ? basename(absolute) : null };
};

/** True when `current` points at `releases/<version>`. */
export const isCurrent = (layout: InstallLayout, version: string): boolean => {
  const current = readCurrent(layout);
  return current !== undefined && resolve(layout.installDir, current.target) === releaseDir(layout, version);
};

const fsyncFile = (path: string): void => {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
};

const nonce = (): string => randomBytes(6).toString('hex');

/** Removes what an interrupted install left in `folder`: entries whose names start with one of `prefixes`. */
const sweep = (folder: string, prefixes: readonly string[]): void => {
  for (const name of readdirSync(folder)) {
    if (prefixes.some((prefix) => name.startsWith(prefix))) rmSync(join(folder, name), { recursive: true, force: true });
  }
};

const moveFile = (from: string, to: string): void => {
  try {
    renameSync(from, to);
  } catch (error) {
    if (codeOf(error) !== 'EXDEV') throw error;
    copyFileSync(from, to); // downloads/ on another file system than releases/
    unlinkSync(from);
  }
};

/**
 * Installs the verified download `from` as `releases/<version>/<fileName>`: moved into a staging folder,
 * fsynced, then the folder renamed into place (an older `releases/<version>` not in use is replaced).
 * Never call it for the release `current` points at. Errors: throws what the file system threw.
 */
export const installRelease = (layout: InstallLayout, version: string, fileName: string, from: string): void => {
  prepareLayout(layout);
  sweep(layout.releasesDir, ['.staging-', '.trash-']);
  const staging = join(layout.releasesDir, `.staging-${version}-${nonce()}`);
  mkdirSync(staging);
  const file = join(staging, fileName);
  moveFile(from, file);
  fsyncFile(file);
  fsyncFolder(staging);
  const final = releaseDir(layout, version);
  let trash: string | undefined;
  try {
    lstatSync(final);
    trash = join(layout.releasesDir, `.trash-${version}-${nonce()}`);
    renameSync(final, trash);
  } catch (error) {
    if (codeOf(error) !== 'ENOENT') throw error;
  }
  renameSync(staging, final);
  fsyncFolder(layout.releasesDir);
  rmSync(`${from}.sha256`, { force: true });
  fsyncFolder(layout.downloadsDir);
  if (trash !== undefined) rmSync(trash, { recursive: true, force: true });
};

/**
 * Points `current` at `target` (a link text such as `releases/2.4.1`) atomically: a new symlink
 * `current.tmp-<random>` renamed over `current`, then the folder fsynced. `null` removes `current` (a
 * rollback to no release). Errors: throws what the file system threw; `current` is then unchanged.
 */
export const pointCurrentAt = (layout: InstallLayout, target: string | null): void => {
  sweep(layout.installDir, ['current.tmp-']);
  if (target === null) {
    rmSync(layout.currentLink, { force: true });
  } else {
    const temporary = join(layout.installDir, `current.tmp-${nonce()}`);
    symlinkSync(target, temporary);
    try {
      renameSync(temporary, layout.currentLink);
    } catch (error) {
      rmSync(temporary, { force: true });
      throw error;
    }
  }
  fsyncFolder(layout.installDir);
};

/** The link text that points `current` at `releases/<version>`. */
export const releaseTarget = (version: string): string => `releases/${version}`;
