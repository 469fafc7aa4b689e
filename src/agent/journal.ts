import { randomUUID } from 'node:crypto';
import { isLeft } from 'fp-ts/lib/Either.js';
import { report } from '../codecs/decode';
import type { DeviceStatus, JobExecutionStatus } from '../codecs/job-execution';
import type { JobId, StatusDetails } from '../codecs/primitives';
import {
  type CompletedExecution,
  type OutboxEntry,
  type RunningExecution,
  JournalError,
  JournalState,
  emptyJournalState,
  moveAside,
  readJournalFile,
  makeJournalFolder,
  removeTemporaries,
  writeJournalFile,
} from './journal-file';
import { errorMessage } from '../util/error-message';

export { JournalError } from './journal-file';
export type { CompletedExecution, JournalState, OutboxEntry, RunningExecution } from './journal-file';

/**
 * The runner's durable journal (ARCHITECTURE.md §5): the running execution and its handler's checkpoint,
 * the executions already finished, and an outbox of status updates not yet accepted.
 *
 * The API is synchronous on purpose. Each mutation returns only once the new journal is on disk, so the
 * runner's next step (sending the update, starting the handler) can never overtake the write; mutations
 * cannot interleave within the process; and there is no queue to drain on shutdown. A write is a few KB
 * and two fsyncs, done a handful of times per job, not per progress tick. The runner can still compose it
 * as `defer(() => of(journal.enqueue(update)))`. One `Journal` per file: two processes (or two objects)
 * on one file would each overwrite the other's changes.
 */

/** Options of {@link openJournal}. */
export interface JournalOptions {
  /** The clock for `startedAt`, `createdAt`, `at` and moved-aside names. Default `() => new Date()`. */
  readonly now?: () => Date;
  /** Makes outbox ids. Default `crypto.randomUUID`. */
  readonly newId?: () => string;
  /** Completed executions remembered (the oldest are forgotten first). Default 100. */
  readonly maxCompleted?: number;
}

/** The execution to record as running ({@link Journal.begin}). */
export interface BeginExecution {
  readonly jobId: JobId;
  readonly executionNumber: number;
  readonly versionNumber: number;
  /** Which handler runs it, so a restart can resume the same one. */
  readonly handler: string;
  readonly step?: string;
  /** Any JSON value; stored as its JSON round trip. */
  readonly checkpoint?: unknown;
  /** When the service queued it, if it said: see {@link Journal.wasCompleted}. */
  readonly queuedAt?: Date;
}

/** A status update to keep until the service accepts it ({@link Journal.enqueue}). */
export interface StatusUpdate {
  readonly jobId: JobId;
  readonly executionNumber?: number;
  readonly status: DeviceStatus;
  /** Already encoded (see `encodeStatusDetails`); refused if the service would refuse it. */
  readonly statusDetails?: StatusDetails;
  readonly expectedVersion?: number;
  readonly stepTimeoutInMinutes?: number;
  /** The execution's `queuedAt`, to tell it from a re-created one when the update is replayed. */
  readonly queuedAt?: Date;
}

/** An execution this device has finished ({@link Journal.complete}). */
export interface Completion {
  readonly jobId: JobId;
  readonly executionNumber: number;
  readonly status: JobExecutionStatus;
  /** When the service queued it; default: the running execution's, when it is this one. */
  readonly queuedAt?: Date;
}

/** The durable journal. Every mutation writes the whole journal atomically before it returns. */
export interface Journal {
  /** The journal file. */
  readonly path: string;
  /** The journal as last written (frozen). */
  readonly state: JournalState;
  /** The execution being run, if any. */
  readonly running: RunningExecution | undefined;
  /** Updates not yet accepted, oldest first: replay them in this order. */
  readonly outbox: readonly OutboxEntry[];
  /**
   * The record of this execution if it was completed here (it must not run again). With `queuedAt`, a record
   * with another `queuedAt` is a different execution: the job id was reused after the old job was deleted.
   */
  completedAs(jobId: string, executionNumber: number, queuedAt?: Date): CompletedExecution | undefined;
  /** True when this execution was completed here: it must not run again. */
  wasCompleted(jobId: string, executionNumber: number): boolean;
  /**
   * Records `execution` as running. Beginning the running execution again (after a restart) updates its
   * version and handler, keeping `startedAt` and, unless given, the checkpoint and step. Errors: throws
   * {@link JournalError} when another execution is running or this one was completed.
   */
  begin(execution: BeginExecution): RunningExecution;
  /** Saves the handler's checkpoint (and step). Errors: throws {@link JournalError} when nothing runs. */
  checkpoint(checkpoint: unknown, step?: string): RunningExecution;
  /** Appends an update to the outbox and returns it with its `id`. */
  enqueue(update: StatusUpdate): OutboxEntry;
  /** Counts one more send of `id`, optionally with a new `expectedVersion`; `undefined` if it is gone. */
  attempted(id: string, changes?: { readonly expectedVersion?: number }): OutboxEntry | undefined;
  /**
   * Removes `id` from the outbox (accepted, or definitively rejected); with the accepted `versionNumber`,
   * also records it on the running execution the update was for. False if `id` was not there.
   */
  ack(id: string, accepted?: { readonly versionNumber?: number }): boolean;
  /**
   * Records `completion` (ending the running execution if it is this one) and, in the same write, enqueues
   * `update` (the terminal status), so a crash cannot keep one without the other.
   */
  complete(completion: Completion, update?: StatusUpdate): OutboxEntry | undefined;
  /** Forgets the running execution without completing it (canceled or removed by the service). */
  clear(): void;
}

/** How a corrupt journal was dealt with. */
export interface JournalRecovery {
  /** Where the corrupt file is now. */
  readonly movedTo: string;
  /** What was wrong with it. */
  readonly reason: string;
  /** One line for the log. */
  readonly message: string;
}

/** The result of {@link openJournal}. */
export interface OpenedJournal {
  /** The journal, ready for the runner. */
  readonly journal: Journal;
  /** Present when the file was corrupt: it was moved aside and the journal starts empty. */
  readonly recovered?: JournalRecovery;
  /** Temporary files a crash left behind, now removed. */
  readonly removedTemporaries: readonly string[];
}

const freeze = <T>(value: T): T => {
  if (typeof value === 'object' && value !== null && !(value instanceof Date) && !Object.isFrozen(value)) {
    for (const field of Object.values(value)) freeze(field);
    Object.freeze(value);
  }
  return value;
};

/** JSON.stringify as it behaves: undefined for undefined, functions and symbols. */
const stringifyJson = (value: unknown): string | undefined => JSON.stringify(value);

/** The running execution's fixed fields (no step, no checkpoint). */
const identityOf = ({ jobId, executionNumber, versionNumber, startedAt, handler, queuedAt }: RunningExecution): RunningExecution => ({
  jobId,
  executionNumber,
  versionNumber,
  startedAt,
  handler,
  ...(queuedAt === undefined ? {} : { queuedAt }),
});

/** The service gives `queuedAt` in whole seconds (MQTT); compare at that grain whatever the transport gave. */
export const sameSecond = (a: Date, b: Date): boolean => Math.floor(a.getTime() / 1000) === Math.floor(b.getTime() / 1000);

const withoutRunning = ({ version, completed, outbox }: JournalState): JournalState => ({ version, completed, outbox });

const sameExecution = (a: { jobId: string; executionNumber?: number }, b: { jobId: string; executionNumber?: number }): boolean =>
  a.jobId === b.jobId && (a.executionNumber === undefined || b.executionNumber === undefined || a.executionNumber === b.executionNumber);

/**
 * Opens the journal at `path`: a missing file is an empty journal (its folder is made, mode 0700, when
 * missing); a file that is not a valid journal is
 * moved to `<path>.corrupt-<timestamp>` (never overwritten, never deleted) and the journal starts empty,
 * with `recovered` saying so. The journal is written once on open, so an unwritable location fails here
 * rather than in the middle of a job. Errors: throws {@link JournalError} when the file exists but cannot
 * be read, or cannot be moved aside or written.
 */
export const openJournal = (path: string, options: JournalOptions = {}): OpenedJournal => {
  const now = options.now ?? (() => new Date());
  makeJournalFolder(path);
  const removedTemporaries = removeTemporaries(path);
  const contents = readJournalFile(path);
  let recovered: JournalRecovery | undefined;
  if (contents.kind === 'corrupt') {
    const movedTo = moveAside(path, now());
    const message = `journal ${path} is corrupt (${contents.reason}); moved it to ${movedTo} and started an empty journal`;
    recovered = { movedTo, reason: contents.reason, message };
  }
  const initial = contents.kind === 'loaded' ? contents.state : emptyJournalState;
  const journal = createJournal(path, initial, (next) => {
    writeJournalFile(path, next);
  }, options);
  return { journal, ...(recovered === undefined ? {} : { recovered }), removedTemporaries };
};

/**
 * A journal kept in memory only: the same rules as {@link openJournal}, but nothing survives the process.
 * For tests, and for runners that accept that a crash loses the running execution.
 */
export const memoryJournal = (options: JournalOptions = {}): Journal => createJournal('(memory)', emptyJournalState, () => undefined, options);

const createJournal = (path: string, initial: JournalState, persist: (next: JournalState) => void, options: JournalOptions): Journal => {
  const now = options.now ?? (() => new Date());
  const newId = options.newId ?? randomUUID;
  const maxCompleted = options.maxCompleted ?? 100;
  let state: JournalState = freeze(initial);

  const commit = (next: JournalState): void => {
    // Checked before writing, so the file never holds what a later open would call corrupt.
    const checked = JournalState.decode(JournalState.encode(next));
    if (isLeft(checked)) throw new JournalError(`refusing to write an invalid journal entry: ${report(checked.left).join('; ')}`, path);
    try {
      persist(next);
    } catch (error) {
      if (error instanceof JournalError && error.committed) state = freeze(next);
      throw error;
    }
    state = freeze(next);
  };
  commit(state);

  const requireRunning = (): RunningExecution => {
    if (state.running === undefined) throw new JournalError('no execution is running', path);
    return state.running;
  };
  const jsonOf = (checkpoint: unknown): { checkpoint?: unknown } => {
    let text: string | undefined;
    try {
      text = stringifyJson(checkpoint);
    } catch (error) {
      throw new JournalError(`the checkpoint is not JSON: ${errorMessage(error)}`, path, { cause: error });
    }
    if (text === undefined) return {}; // undefined, a function or a symbol: no checkpoint
    const value: unknown = JSON.parse(text);
    return { checkpoint: value };
  };
  // statusDetails is copied: the journal freezes what it holds and must not freeze the caller's object.
  const entryOf = (update: StatusUpdate): OutboxEntry => ({
    ...update,
    ...(update.statusDetails === undefined ? {} : { statusDetails: { ...update.statusDetails } }),
    id: newId(),
    createdAt: now(),
    attempts: 0,
  });
  const findEntry = (id: string): OutboxEntry | undefined => state.outbox.find((entry) => entry.id === id);
  const completedAs = (jobId: string, executionNumber: number, queuedAt?: Date): CompletedExecution | undefined =>
    state.completed.find(
      (done) =>
        done.jobId === jobId &&
        done.executionNumber === executionNumber &&
        (queuedAt === undefined || done.queuedAt === undefined || sameSecond(done.queuedAt, queuedAt)),
    );
  const wasCompleted = (jobId: string, executionNumber: number): boolean => completedAs(jobId, executionNumber) !== undefined;

  const journal: Journal = {
    path,
    get state() {
      return state;
    },
    get running() {
      return state.running;
    },
    get outbox() {
      return state.outbox;
    },
    completedAs,
    wasCompleted,
    begin: (execution) => {
      const { checkpoint, ...fields } = execution;
      if (completedAs(execution.jobId, execution.executionNumber, execution.queuedAt) !== undefined) {
        throw new JournalError(`execution ${execution.jobId}#${execution.executionNumber} was already completed`, path);
      }
      const current = state.running;
      if (current !== undefined && !sameExecution(current, execution)) {
        throw new JournalError(`execution ${current.jobId}#${current.executionNumber} is still running`, path);
      }
      const running: RunningExecution = {
        ...(current === undefined ? {} : current),
        ...fields,
        ...('checkpoint' in execution ? jsonOf(checkpoint) : {}),
        startedAt: current?.startedAt ?? now(),
      };
      commit({ ...state, running });
      return running;
    },
    checkpoint: (checkpoint, step) => {
      const current = requireRunning();
      const nextStep = step ?? current.step;
      const running: RunningExecution = { ...identityOf(current), ...(nextStep === undefined ? {} : { step: nextStep }), ...jsonOf(checkpoint) };
      commit({ ...state, running });
      return running;
    },
    enqueue: (update) => {
      const entry = entryOf(update);
      commit({ ...state, outbox: [...state.outbox, entry] });
      return entry;
    },
    attempted: (id, changes = {}) => {
      const entry = findEntry(id);
      if (entry === undefined) return undefined;
      const next: OutboxEntry = { ...entry, ...changes, attempts: entry.attempts + 1 };
      commit({ ...state, outbox: state.outbox.map((item) => (item.id === id ? next : item)) });
      return next;
    },
    ack: (id, accepted = {}) => {
      const entry = findEntry(id);
      if (entry === undefined) return false;
      const { running } = state;
      const rebased = running !== undefined && accepted.versionNumber !== undefined && sameExecution(running, entry) ? { running: { ...running, versionNumber: accepted.versionNumber } } : {};
      commit({ ...state, ...rebased, outbox: state.outbox.filter((item) => item.id !== id) });
      return true;
    },
    complete: (completion, update) => {
      const current = state.running;
      const queuedAt = completion.queuedAt ?? (current !== undefined && sameExecution(current, completion) ? current.queuedAt : undefined);
      const done: CompletedExecution = { ...completion, ...(queuedAt === undefined ? {} : { queuedAt }), at: now() };
      const completed = [...state.completed.filter((item) => !sameExecution(item, completion)), done].slice(-maxCompleted);
      const entry = update === undefined ? undefined : entryOf(update);
      const running = current === undefined || sameExecution(current, completion) ? {} : { running: current };
      commit({ ...withoutRunning(state), ...running, completed, outbox: entry === undefined ? state.outbox : [...state.outbox, entry] });
      return entry;
    },
    clear: () => {
      if (state.running === undefined) return;
      commit(withoutRunning(state));
    },
  };
  return journal;
};
