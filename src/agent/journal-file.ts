import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, unlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as t from 'io-ts';
import { decodePayload, parseJson } from '../codecs/decode';
import { DeviceStatus, JobExecutionStatus } from '../codecs/job-execution';
import { JobId, Long, StatusDetails, UpdateStepTimeoutInMinutes } from '../codecs/primitives';
import { DecodeError, JobsError } from '../errors';
import { fsyncFolder, replaceFile, temporaryPrefix } from '../util/durable-file';
import { errorMessage } from '../util/error-message';

/**
 * The journal's file format and its durable I/O: the codec, an atomic write (temporary file in the same
 * folder, fsync, rename, fsync of the folder), and reading that tells a missing file from a corrupt one.
 * The API the runner uses is in `journal.ts`.
 */

/** A timestamp: ISO 8601 text in the file (readable on the device), `Date` in memory. */
const IsoDate = new t.Type<Date, string, unknown>(
  'IsoDate',
  (u): u is Date => u instanceof Date && !Number.isNaN(u.getTime()),
  (u, c) => (typeof u === 'string' && !Number.isNaN(Date.parse(u)) ? t.success(new Date(u)) : t.failure(u, c)),
  (d) => d.toISOString(),
);

const Count = t.refinement(Long, (n) => n >= 0, 'Count');

/** The execution being run: enough to resume its handler after a restart. */
export const RunningExecution = t.intersection(
  [
    t.type({ jobId: JobId, executionNumber: Long, versionNumber: Long, startedAt: IsoDate, handler: t.string }),
    t.partial({ checkpoint: t.unknown, step: t.string, queuedAt: IsoDate }),
  ],
  'RunningExecution',
);
export type RunningExecution = t.TypeOf<typeof RunningExecution>;

/**
 * An execution this device finished; it is never run again. `queuedAt` (when the service gave it) tells a
 * job id reused after the old job was deleted (execution number 1 again) from the execution that ran here.
 */
export const CompletedExecution = t.intersection(
  [t.type({ jobId: JobId, executionNumber: Long, status: JobExecutionStatus, at: IsoDate }), t.partial({ queuedAt: IsoDate })],
  'CompletedExecution',
);
export type CompletedExecution = t.TypeOf<typeof CompletedExecution>;

/** A status update not yet accepted (or definitively rejected) by the service. */
export const OutboxEntry = t.intersection(
  [
    t.type({ id: t.string, jobId: JobId, status: DeviceStatus, createdAt: IsoDate, attempts: Count }),
    t.partial({
      executionNumber: Long,
      statusDetails: StatusDetails,
      expectedVersion: Count,
      stepTimeoutInMinutes: UpdateStepTimeoutInMinutes,
      /** The execution's `queuedAt`: a replay after a restart must not reach a re-created execution. */
      queuedAt: IsoDate,
    }),
  ],
  'OutboxEntry',
);
export type OutboxEntry = t.TypeOf<typeof OutboxEntry>;

/** The whole journal file (version 1). */
export const JournalState = t.intersection(
  [
    t.type({ version: t.literal(1), completed: t.array(CompletedExecution), outbox: t.array(OutboxEntry) }),
    t.partial({ running: RunningExecution }),
  ],
  'JournalState',
);
export type JournalState = t.TypeOf<typeof JournalState>;

/** An empty journal. */
export const emptyJournalState: JournalState = { version: 1, completed: [], outbox: [] };

/** The journal file cannot be read or written (permissions, disk full, a folder in its place…). */
export class JournalError extends JobsError {
  override readonly name: 'JournalError';
  /** The journal file. */
  readonly path: string;
  /** True when the new journal did replace the old one, but its folder could not be synced. */
  readonly committed: boolean;

  constructor(message: string, path: string, options: { readonly cause?: unknown; readonly committed?: boolean } = {}) {
    super(message, 'cause' in options ? { cause: options.cause } : {});
    this.name = 'JournalError';
    this.path = path;
    this.committed = options.committed ?? false;
  }
}

// Not `instanceof Error`: Node's fs errors come from another realm under test runners' sandboxes.
const codeOf = (error: unknown): unknown => (typeof error === 'object' && error !== null && 'code' in error ? error.code : undefined);

/** What {@link readJournalFile} found. */
export type JournalFileContents =
  | { readonly kind: 'missing' }
  | { readonly kind: 'loaded'; readonly state: JournalState }
  | { readonly kind: 'corrupt'; readonly reason: string };

/**
 * Reads and decodes the journal at `path`. Errors: throws {@link JournalError} when the file exists but
 * cannot be read: that is the environment's problem, and starting empty could run a job twice.
 */
export const readJournalFile = (path: string): JournalFileContents => {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if (codeOf(error) === 'ENOENT') return { kind: 'missing' };
    throw new JournalError(`cannot read journal ${path}: ${errorMessage(error)}`, path, { cause: error });
  }
  if (text.trim() === '') return { kind: 'corrupt', reason: 'the file is empty' };
  const parsed = parseJson(text);
  if (!parsed.ok) return { kind: 'corrupt', reason: `not JSON (${parsed.message})` };
  try {
    return { kind: 'loaded', state: decodePayload(JournalState, parsed.value, { payload: text }) };
  } catch (error) {
    if (!(error instanceof DecodeError)) throw error;
    return { kind: 'corrupt', reason: `not a version 1 journal (${error.issues.slice(0, 3).join('; ')})` };
  }
};

/** A name for a moved-aside file: colons left out, as FAT (a Pi's boot partition) refuses them. */
const stamp = (at: Date): string => at.toISOString().replace(/[:.]/g, '-');

/**
 * Moves a corrupt journal to `<path>.corrupt-<timestamp>` (a numbered suffix if that exists: nothing is
 * ever overwritten) and returns the new path. Errors: throws {@link JournalError} when it cannot.
 */
export const moveAside = (path: string, at: Date): string => {
  const base = `${path}.corrupt-${stamp(at)}`;
  let target = base;
  for (let n = 1; existsSync(target); n++) target = `${base}-${n}`;
  try {
    renameSync(path, target);
    fsyncFolder(dirname(path));
  } catch (error) {
    throw new JournalError(`cannot move corrupt journal ${path} aside: ${errorMessage(error)}`, path, { cause: error });
  }
  return target;
};

/**
 * Makes the journal's folder (and its parents) when missing, readable by the owner only (mode 0700), as
 * `iot-jobs run` does. Errors: throws {@link JournalError} when it cannot be made.
 */
export const makeJournalFolder = (path: string): void => {
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  } catch (error) {
    throw new JournalError(`cannot make the folder of journal ${path}: ${errorMessage(error)}`, path, { cause: error });
  }
};

/**
 * Removes temporary files a crash left between writing and renaming (they never replaced the journal, so
 * they hold nothing that was committed). Returns their paths.
 */
export const removeTemporaries = (path: string): string[] => {
  const folder = dirname(path);
  const prefix = temporaryPrefix(path);
  let names: string[];
  try {
    names = readdirSync(folder);
  } catch {
    return []; // nothing to remove (or nothing readable: the first write will say so)
  }
  const removed: string[] = [];
  for (const name of names.filter((entry) => entry.startsWith(prefix))) {
    try {
      unlinkSync(join(folder, name));
      removed.push(join(folder, name));
    } catch {
      // Not ours to worry about: a later open tries again.
    }
  }
  return removed;
};

/**
 * Writes `state` to `path` atomically and durably, with permissions 0600: a temporary file in the same
 * folder, fsync, rename over the journal, fsync of the folder. A crash at any point leaves the old or the
 * new journal, never a mix. Errors: throws {@link JournalError}; unless its `committed` is true, the old
 * journal is unchanged.
 */
export const writeJournalFile = (path: string, state: JournalState): void => {
  try {
    replaceFile(path, `${JSON.stringify(JournalState.encode(state), null, 2)}\n`);
  } catch (error) {
    throw new JournalError(`cannot write journal ${path}: ${errorMessage(error)}`, path, { cause: error });
  }
  try {
    fsyncFolder(dirname(path));
  } catch (error) {
    throw new JournalError(`journal ${path} written but its folder could not be synced: ${errorMessage(error)}`, path, { cause: error, committed: true });
  }
};
