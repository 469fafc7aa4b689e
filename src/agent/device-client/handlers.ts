import { constants } from 'node:fs';
import { access, lstat, realpath, stat } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import type { HandlerStep } from './document';

/**
 * Where a `runHandler` step's program comes from (../shared/spec/device-client-jobs.md §3.2), with our
 * allow-list on top: a handler is a file inside an allow-listed folder, never an arbitrary path.
 *
 * - `path: "default"`: Device Client runs `<handlerDir>/<handler>` if its mode is exactly 0700. Same here, and
 *   the file must also be owned by us or root.
 * - `path: <folder>`: Device Client runs `<path>/<handler>` without any check. Here the folder must be an
 *   allowed folder or below one, and the file must not be group- or world-writable and owned by us or root.
 * - no `path` (or `""`): Device Client calls `execvp(handler)`, i.e. a PATH search. Here the handler folder is
 *   used, with the `"default"` checks; PATH only with `searchPath`.
 *
 * PATH lookup is off by default because it runs any installed program with the document's arguments
 * (`handler: "bash", runAsUser: "-c"` is a shell): it is as powerful as `runCommand`, so the step runner turns
 * it on only with `allowCommands`. The AWS managed templates send `path: "${aws:iot:parameter:pathToHandler}"`,
 * i.e. `""` when the parameter is omitted; they find their handlers in the handler folder here.
 *
 * In every case the handler name must be a plain file name (no `/`, `.`, `..`, NUL), symlinks may not lead out
 * of the allowed folders, the target must be a regular file executable by us, and the folder holding it must
 * not be world-writable. The real path is what gets executed. Someone who can write to an allowed folder can
 * still swap a file between the check and the exec: keep the folders 0700, as Device Client's setup does.
 */

/** Where handlers may come from. */
export interface HandlerFolderOptions {
  /** The allow-listed handler folder: what `path: "default"` (and an absent `path`) means. */
  readonly handlerDir: string;
  /** More folders a document's `path` may name (the folder itself or one below it). Default: none. */
  readonly allowedDirs?: readonly string[];
  /**
   * A handler without `path` that is not in the handler folder is looked up on PATH, as Device Client does.
   * Default: false (the step runner sets it from `allowCommands`).
   */
  readonly searchPath?: boolean;
  /** Base of a relative `path`, like the working directory Device Client resolves it in. Default: `process.cwd()`. */
  readonly cwd?: string;
}

/** The outcome of {@link resolveHandler}: the program to execute, or why the handler is refused. */
export type HandlerResolution =
  | { readonly ok: true; readonly program: string; readonly source: 'handler-folder' | 'allowed-folder' | 'search-path' }
  | { readonly ok: false; readonly reason: string };

const refuse = (reason: string): HandlerResolution => ({ ok: false, reason });

/** True when `name` is a plain file name: not empty, `.` or `..`, without `/` or NUL. */
export const isPlainName = (name: string): boolean =>
  name !== '' && name !== '.' && name !== '..' && !name.includes('/') && !name.includes('\0');

const isInside = (root: string, candidate: string): boolean => {
  const rel = relative(root, candidate);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
};

// Structural, not `instanceof Error`: Node's errors come from another realm under test runners.
const errorCode = (error: unknown): string =>
  typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string' ? error.code : 'unknown error';

const modeText = (mode: number): string => `0${(mode & 0o777).toString(8).padStart(3, '0')}`;

/** Real paths of the allowed folders; missing ones are left out. */
const realRoots = async (options: HandlerFolderOptions): Promise<string[]> => {
  const all = [options.handlerDir, ...(options.allowedDirs ?? [])];
  const roots = await Promise.all(all.map((dir) => realpath(resolve(dir)).catch(() => undefined)));
  return roots.filter((root): root is string => root !== undefined);
};

const myUid = (): number | undefined => process.getuid?.();

/** Checks the file at `candidate` and returns the real path to execute. */
const checkFile = async (
  candidate: string,
  roots: readonly string[],
  rule: 'exact-0700' | 'not-writable-by-others',
): Promise<{ ok: true; program: string } | { ok: false; reason: string }> => {
  let program: string;
  try {
    program = await realpath(candidate);
  } catch (error) {
    const code = errorCode(error);
    return { ok: false, reason: code === 'ENOENT' ? `${candidate} does not exist` : `cannot read ${candidate} (${code})` };
  }
  if (!roots.some((root) => isInside(root, program))) {
    return { ok: false, reason: `${candidate} leads to ${program}, outside the allowed handler folders` };
  }
  const stats = await Promise.all([stat(program), stat(dirname(program))]).catch(() => undefined);
  if (stats === undefined) return { ok: false, reason: `cannot read ${program}` };
  const [file, folder] = stats;
  if (!file.isFile()) return { ok: false, reason: `${program} is not a regular file` };
  const uid = myUid();
  if (uid !== undefined && file.uid !== uid && file.uid !== 0) {
    return { ok: false, reason: `${program} is owned by uid ${file.uid}, neither this agent (uid ${uid}) nor root` };
  }
  if ((folder.mode & 0o002) !== 0) return { ok: false, reason: `the folder ${dirname(program)} is world-writable` };
  if (rule === 'exact-0700' && (file.mode & 0o777) !== 0o700) {
    const mode = modeText(file.mode);
    return { ok: false, reason: `${program} has mode ${mode}; handlers in the handler folder need exactly 0700 (as Device Client requires)` };
  }
  if (rule === 'not-writable-by-others' && (file.mode & 0o022) !== 0) {
    return { ok: false, reason: `${program} has mode ${modeText(file.mode)}; it must not be writable by group or others` };
  }
  try {
    await access(program, constants.X_OK);
  } catch {
    return { ok: false, reason: `${program} is not executable by this agent` };
  }
  return { ok: true, program };
};

/**
 * Finds the program for a `runHandler` step (table above) or says why it is refused. Reads the file system
 * only; never executes anything.
 */
export const resolveHandler = async (
  step: Pick<HandlerStep, 'handler' | 'path'>,
  options: HandlerFolderOptions,
): Promise<HandlerResolution> => {
  const { handler, path } = step;
  const searchPath = options.searchPath ?? false;
  if (path === undefined && searchPath && !isPlainName(handler)) return { ok: true, program: handler, source: 'search-path' };
  if (!isPlainName(handler)) {
    return refuse(`handler ${JSON.stringify(handler)} must be a plain file name (no "/", "." or "..")`);
  }
  const roots = await realRoots(options);
  if (path === undefined || path === 'default') {
    const handlerRoot = await realpath(resolve(options.handlerDir)).catch(() => undefined);
    if (handlerRoot === undefined) return refuse(`the handler folder ${options.handlerDir} does not exist`);
    const candidate = resolve(handlerRoot, handler);
    const exists = await lstat(candidate).then(() => true, () => false);
    if (path === undefined && !exists && searchPath) return { ok: true, program: handler, source: 'search-path' };
    if (!exists) {
      const hint = path === undefined ? ' (the document gives no "path"; PATH search is off unless commands are allowed)' : '';
      return refuse(`handler ${JSON.stringify(handler)} is not in the handler folder ${handlerRoot}${hint}`);
    }
    const checked = await checkFile(candidate, [handlerRoot], 'exact-0700');
    return checked.ok ? { ok: true, program: checked.program, source: 'handler-folder' } : refuse(checked.reason);
  }
  const folder = await realpath(resolve(options.cwd ?? process.cwd(), path)).catch(() => undefined);
  if (folder === undefined || !roots.some((root) => isInside(root, folder))) {
    return refuse(`path ${JSON.stringify(path)} is not an allowed handler folder`);
  }
  const checked = await checkFile(resolve(folder, handler), roots, 'not-writable-by-others');
  return checked.ok ? { ok: true, program: checked.program, source: 'allowed-folder' } : refuse(checked.reason);
};
