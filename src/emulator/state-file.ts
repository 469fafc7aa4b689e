import { accessSync, constants, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import * as t from 'io-ts';
import { decodePayload, parseJson } from '../codecs/decode';
import { JobExecutionStatus } from '../codecs/job-execution';
import { DecodeError } from '../errors';
import { fsyncFolder, replaceFile } from '../util/durable-file';
import { errorCode } from '../util/error-message';
import type { EngineSnapshot } from './engine/engine';

/**
 * `--state FILE`: the emulator's jobs and executions kept across restarts. Written atomically (temporary
 * file, fsync, rename, fsync of the folder); a file that does not decode is refused, never overwritten.
 */

const optional = <P extends t.Props>(props: P) => t.partial(props);

const JobRecordCodec = t.intersection([
  t.type({
    jobId: t.string,
    jobArn: t.string,
    document: t.string,
    targets: t.array(t.string),
    targetSelection: t.keyof({ SNAPSHOT: null, CONTINUOUS: null }),
    retryCriteria: t.array(t.type({ failureType: t.keyof({ FAILED: null, TIMED_OUT: null, ALL: null }), numberOfRetries: t.number })),
    status: t.keyof({ IN_PROGRESS: null, CANCELED: null, COMPLETED: null, DELETION_IN_PROGRESS: null }),
    createdAt: t.number,
    lastUpdatedAt: t.number,
  }),
  optional({
    description: t.string,
    inProgressTimeoutInMinutes: t.number,
    completedAt: t.number,
    forceCanceled: t.boolean,
    reasonCode: t.string,
    comment: t.string,
  }),
]);

const ExecutionRecordCodec = t.intersection([
  t.type({
    jobId: t.string,
    thingName: t.string,
    executionNumber: t.number,
    sequence: t.number,
    status: JobExecutionStatus,
    statusDetails: t.record(t.string, t.string),
    versionNumber: t.number,
    queuedAt: t.number,
    lastUpdatedAt: t.number,
    retries: t.number,
  }),
  optional({ startedAt: t.number, stepDeadline: t.number, inProgressDeadline: t.number, forceCanceled: t.boolean }),
]);

/** The state file's format. */
export const EmulatorStateFile = t.type(
  { version: t.literal(1), sequence: t.number, jobs: t.array(JobRecordCodec), executions: t.array(ExecutionRecordCodec) },
  'EmulatorStateFile',
);

/** Thrown when a state file cannot be used; the file is left as it is. */
export class StateFileError extends Error {
  override readonly name: 'StateFileError';

  constructor(...args: ConstructorParameters<typeof Error>) {
    super(...args);
    this.name = 'StateFileError';
  }
}

/** Reads a state file; `undefined` when it does not exist. Throws {@link StateFileError} when it is corrupt. */
export const readStateFile = (path: string): EngineSnapshot | undefined => {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    // Checked by `code`, not instanceof: fs errors can come from another realm (e.g. a test sandbox).
    if (typeof error === 'object' && error !== null && 'code' in error && error.code === 'ENOENT') {
      // A new file: its folder must take it, or the first change would fail, not the start.
      try {
        accessSync(dirname(path), constants.W_OK);
      } catch (folderError) {
        throw new StateFileError(`cannot create state file ${path}: its folder is missing or not writable (${errorCode(folderError, String(folderError))})`);
      }
      return undefined;
    }
    throw new StateFileError(`cannot read state file ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const parsed = parseJson(text);
  if (!parsed.ok) throw new StateFileError(`state file ${path} is not JSON (${parsed.message}); refusing to start and leaving it untouched`);
  try {
    return decodePayload(EmulatorStateFile, parsed.value, { payload: text });
  } catch (error) {
    const issues = error instanceof DecodeError ? error.issues.slice(0, 3).join('; ') : String(error);
    throw new StateFileError(`state file ${path} is not a valid emulator state (${issues}); refusing to start and leaving it untouched`);
  }
};

/** Writes `snapshot` to `path` atomically and durably. */
export const writeStateFile = (path: string, snapshot: EngineSnapshot): void => {
  replaceFile(path, JSON.stringify(snapshot));
  fsyncFolder(dirname(path));
};
