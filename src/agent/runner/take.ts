import * as t from 'io-ts';
import { decodeJson } from '../../codecs/decode';
import type { JobExecution } from '../../codecs/job-execution';
import { DeviceStatus } from '../../codecs/job-execution';
import { EpochSeconds, JobId, Long, isJobId } from '../../codecs/primitives';
import { DecodeError, JobsError } from '../../errors';
import { type Observable, catchError, concat, defer, map, mergeMap, of } from '../../rx-extra';
import type { ExecutionRef, RunnerEvent } from '../events';
import type { JobHandler, Match } from '../handler';
import { type CompletedExecution, type RunningExecution, sameSecond } from '../journal';
import { retryUpdate } from '../retry-update';
import type { RunnerContext } from './context';
import { deliverStatus, statusOfRefusedDescribe } from './deliver';
import { runExecution } from './execution';
import { deliverEntry, finishExecution } from './finish';
import { toJobsError } from './resilient';

/**
 * Taking work: the drain (StartNext until the queue is empty, one execution at a time), the choice of a
 * handler for each document, and the resumption of the execution the journal says was running.
 */

/** The handlers, and what makes a running execution check whether it was canceled meanwhile. */
export interface TakeOptions {
  readonly handlers: readonly JobHandler[];
  readonly recheck: Observable<unknown>;
  /** What each interrupted execution's clean-up did, by `jobId#executionNumber`: it runs once. */
  readonly cleanups: Map<string, string | undefined>;
}

/**
 * Runs the `interrupted` hook of the handler that ran `running` (once per execution; later calls return the
 * first result): what a killed runner left (a step's process group) goes, whether the execution is then
 * resumed by nobody, ended FAILED "interrupted", or found ended on the service.
 */
export const cleanUpInterrupted = (options: TakeOptions, running: RunningExecution): string | undefined => {
  const key = `${running.jobId}#${String(running.executionNumber)}`;
  if (options.cleanups.has(key)) return options.cleanups.get(key);
  const handler = options.handlers.find((candidate) => candidate.name === running.handler);
  let cleanup: string | undefined;
  try {
    cleanup = handler?.interrupted?.({ jobId: running.jobId, executionNumber: running.executionNumber, checkpoint: running.checkpoint, step: running.step });
  } catch (error) {
    cleanup = `clean-up failed: ${toJobsError(error).message}`;
  }
  options.cleanups.set(key, cleanup);
  return cleanup;
};

/** Forgets the journal's running execution, after its handler's clean-up. */
const dropRunning = (context: RunnerContext, options: TakeOptions, running: RunningExecution): void => {
  cleanUpInterrupted(options, running);
  context.journal.clear();
};

/** `reason` of an execution that was running when the runner stopped and whose handler cannot resume. */
export const interruptedReason = 'interrupted';

type Choice = { readonly handler: JobHandler; readonly match: Match<unknown> } | undefined;

const choose = (handlers: readonly JobHandler[], document: unknown): Choice => {
  for (const handler of handlers) {
    const match = handler.match(document);
    if (match !== undefined) return { handler, match };
  }
  return undefined;
};

const errorEvent = (ref: ExecutionRef | undefined, error: unknown): RunnerEvent => ({ ...ref, kind: 'error', error: toJobsError(error) });

/** Reports again the outcome of an execution completed here that the service still has in progress. */
const reportAgain = (context: RunnerContext, ref: ExecutionRef, done: CompletedExecution, version: number | undefined, queuedAt: Date | undefined): Observable<RunnerEvent> => {
  // The outcome still queued for delivery, with its details, if it is there (a delivery that gave up), and if
  // it is this execution's (not one of a job deleted and created again with the same id).
  const queued = context.journal.outbox.find(
    (entry) =>
      entry.jobId === ref.jobId &&
      entry.executionNumber === ref.executionNumber &&
      (entry.queuedAt === undefined || queuedAt === undefined || sameSecond(entry.queuedAt, queuedAt)),
  );
  if (queued !== undefined) return deliverEntry(context, queued, version);
  const status = DeviceStatus.is(done.status) ? done.status : 'FAILED';
  const again = { jobId: ref.jobId, executionNumber: ref.executionNumber, status, statusDetails: { reason: `completed earlier on this device as ${done.status}` } };
  return concat(
    of(errorEvent(ref, new JobsError(`execution ${ref.jobId}#${String(ref.executionNumber)} was completed here before; reporting ${status} again`))),
    deliverStatus(context, again, version).pipe(
      map((delivery): RunnerEvent => {
        if (delivery.kind === 'accepted') return { ...ref, kind: 'reported', status, attempts: delivery.attempts };
        return delivery.kind === 'gone' ? { ...ref, kind: 'canceled', status: delivery.status } : errorEvent(ref, delivery.error);
      }),
    ),
  );
};

/** Runs one execution that StartNext has just put IN_PROGRESS (or reports it again if it ran here before). */
const runTaken = (context: RunnerContext, options: TakeOptions, execution: JobExecution): Observable<RunnerEvent> =>
  defer(() => {
    const { jobId, executionNumber, queuedAt } = execution;
    if (!isJobId(jobId) || executionNumber === undefined) {
      return of(errorEvent(undefined, new JobsError(`StartNext returned an execution without a valid job id and execution number: ${JSON.stringify({ jobId, executionNumber })}`)));
    }
    const ref: ExecutionRef = { jobId, executionNumber };
    const version = execution.versionNumber;
    const { running } = context.journal;
    if (running?.jobId === jobId && running.executionNumber === executionNumber) return resumeWith(context, options, running, execution);
    // StartNext returns IN_PROGRESS executions first: one the journal still holds is no longer in progress.
    if (running !== undefined) dropRunning(context, options, running);
    const done = context.journal.completedAs(jobId, executionNumber, queuedAt);
    if (done !== undefined) return reportAgain(context, ref, done, version, queuedAt);
    const reject = (reason: string): Observable<RunnerEvent> => finishExecution(context, ref, 'REJECTED', { reason }, version, queuedAt);
    let choice: Choice;
    try {
      choice = choose(options.handlers, execution.jobDocument);
    } catch (error) {
      return reject(`the job document could not be checked: ${toJobsError(error).message}`);
    }
    if (choice === undefined) return reject('no handler on this device accepts this job document');
    if (!choice.match.ok) return reject(choice.match.reason);
    return runExecution(
      context,
      { ref, versionNumber: version, handler: choice.handler, document: choice.match.document, resumed: false, checkpoint: undefined, step: undefined, startedAtMs: context.scheduler.now(), queuedAt },
      options.recheck,
    );
  });

/** The ids a StartNext reply that failed its codec may still hold, each checked by its own codec. */
const UndecodedExecution = t.type({
  execution: t.intersection([t.type({ jobId: JobId, executionNumber: Long }), t.partial({ versionNumber: Long, queuedAt: EpochSeconds })]),
});

/** An execution StartNext put IN_PROGRESS whose reply failed its codec, and why. */
interface Undecoded {
  readonly ref: ExecutionRef;
  readonly execution: t.TypeOf<typeof UndecodedExecution>['execution'];
  readonly issues: readonly string[];
}

/** Which execution an unusable StartNext reply names, when `error` is a DecodeError whose payload says so. */
const undecodedExecution = (error: unknown): Undecoded | undefined => {
  if (!(error instanceof DecodeError)) return undefined;
  try {
    const { execution } = decodeJson(UndecodedExecution, { payload: error.payload });
    return { ref: { jobId: execution.jobId, executionNumber: execution.executionNumber }, execution, issues: error.issues };
  } catch {
    return undefined;
  }
};

/**
 * REJECTED, with the decoder's report: StartNext returns an IN_PROGRESS execution first, so one left running
 * because its reply cannot be read (a document the client's document codec refuses) would block the queue.
 */
const rejectUndecoded = (context: RunnerContext, options: TakeOptions, taken: Undecoded): Observable<RunnerEvent> =>
  defer(() => {
    const { ref, execution } = taken;
    // As in runTaken: the journal's running execution is this one (it cannot be resumed without its document:
    // its handler's clean-up runs), or one no longer in progress.
    const { running } = context.journal;
    let cleanup: string | undefined;
    if (running?.jobId === ref.jobId && running.executionNumber === ref.executionNumber) cleanup = cleanUpInterrupted(options, running);
    else if (running !== undefined) dropRunning(context, options, running);
    // Rejected here before (a wake-up ago) and still owed: that outcome goes again, not a second one.
    const done = context.journal.completedAs(ref.jobId, ref.executionNumber, execution.queuedAt);
    if (done !== undefined) return reportAgain(context, ref, done, execution.versionNumber, execution.queuedAt);
    const details = { reason: `this device could not decode the execution: ${taken.issues.join('; ')}`, ...(cleanup === undefined ? {} : { cleanup }) };
    return finishExecution(context, ref, 'REJECTED', details, execution.versionNumber, execution.queuedAt);
  });

/**
 * StartNext, run what it returns, and again, until the queue is empty. A StartNext that fails for good
 * ends the drain with an `error` event (the next wake-up tries again).
 */
export const drainQueue = (context: RunnerContext, options: TakeOptions): Observable<RunnerEvent> => {
  const { stepTimeoutInMinutes } = context;
  let previous: string | undefined;
  // The same execution twice in a row: what the runner did did not move it on. Wait for the next wake-up
  // rather than ask again at once, in a loop.
  const again = (execution: Pick<JobExecution, 'jobId' | 'executionNumber' | 'queuedAt' | 'versionNumber'>): Observable<RunnerEvent> | undefined => {
    const key = JSON.stringify([execution.jobId, execution.executionNumber, execution.queuedAt, execution.versionNumber]);
    if (key !== previous) {
      previous = key;
      return undefined;
    }
    return of(errorEvent(undefined, new JobsError(`StartNext returned ${execution.jobId}#${String(execution.executionNumber)} again unchanged; waiting for the next wake-up`)));
  };
  const next = (): Observable<RunnerEvent> =>
    retryUpdate(() => context.client.startNextPendingJobExecution(stepTimeoutInMinutes === undefined ? {} : { stepTimeoutInMinutes }), context.retry).pipe(
      // A reply that fails its codec (a job document the client's document codec refuses, say) ends only this
      // StartNext: the execution it names is REJECTED when that much can be read, else the drain waits.
      catchError((error: unknown) => of({ kind: 'unusable' as const, error })),
      mergeMap((outcome) => {
        if (outcome.kind === 'unusable') {
          const taken = undecodedExecution(outcome.error);
          if (taken === undefined) return of(errorEvent(undefined, outcome.error));
          return again(taken.execution) ?? concat(of(errorEvent(taken.ref, outcome.error)), rejectUndecoded(context, options, taken), defer(next));
        }
        if (outcome.kind !== 'accepted') return of(errorEvent(undefined, outcome.error));
        const { execution } = outcome.value;
        if (execution === undefined) return of<RunnerEvent>({ kind: 'idle' });
        return again(execution) ?? concat(runTaken(context, options, execution), defer(next));
      }),
    );
  return defer(next);
};

/** Resumes `running` (the journal's) as the service describes it now (`execution`, absent when gone). */
const resumeWith = (context: RunnerContext, options: TakeOptions, running: RunningExecution, execution: JobExecution | undefined): Observable<RunnerEvent> =>
  defer(() => {
    const ref: ExecutionRef = { jobId: running.jobId, executionNumber: running.executionNumber };
    if (execution?.status !== 'IN_PROGRESS') {
      dropRunning(context, options, running);
      return of<RunnerEvent>({ ...ref, kind: 'canceled', status: execution?.status ?? 'REMOVED' });
    }
    const version = execution.versionNumber;
    const handler = options.handlers.find((candidate) => candidate.name === running.handler);
    const interrupted = (detail: string): Observable<RunnerEvent> => {
      const cleanup = cleanUpInterrupted(options, running);
      const details = { reason: interruptedReason, detail, ...(cleanup === undefined ? {} : { cleanup }) };
      return finishExecution(context, ref, 'FAILED', details, version, running.queuedAt ?? execution.queuedAt);
    };
    if (handler?.resumable !== true) return interrupted(`the runner stopped while this job ran, and its handler "${running.handler}" cannot resume`);
    let match: Match<unknown> | undefined;
    try {
      match = handler.match(execution.jobDocument);
    } catch (error) {
      return interrupted(`handler "${handler.name}" could not check the job document: ${toJobsError(error).message}`);
    }
    if (match === undefined) return interrupted(`handler "${handler.name}" no longer accepts this job document`);
    if (!match.ok) return interrupted(match.reason);
    const elapsedMs = Math.max(0, Date.now() - running.startedAt.getTime());
    return runExecution(
      context,
      {
        ref,
        versionNumber: version,
        handler,
        document: match.document,
        resumed: true,
        checkpoint: running.checkpoint,
        step: running.step,
        startedAtMs: context.scheduler.now() - elapsedMs,
        queuedAt: running.queuedAt ?? execution.queuedAt,
      },
      options.recheck,
    );
  });

/**
 * Continues the execution the journal says was running when the runner last stopped: if the service still
 * has it IN_PROGRESS, its handler resumes from the checkpoint, or (handler gone or not resumable) it ends
 * FAILED "interrupted"; otherwise it ended meanwhile (`canceled`). A Describe refused for another reason
 * than ResourceNotFound is an `error` event, and the journal keeps the execution for StartNext to return.
 * Errors: JournalError.
 */
export const resumeRunning = (context: RunnerContext, options: TakeOptions, running: RunningExecution): Observable<RunnerEvent> =>
  retryUpdate(
    // includeJobDocument explicitly: the documented default differs between sources (jobs-api.md §3.2).
    () => context.client.describeJobExecution({ jobId: running.jobId, executionNumber: running.executionNumber, includeJobDocument: true }),
    context.retry,
  ).pipe(
    // A reply that fails its codec: reported, and the journal keeps the execution for StartNext to return.
    catchError((error: unknown) => of({ kind: 'unusable' as const, error })),
    mergeMap((outcome): Observable<RunnerEvent> => {
      if (outcome.kind === 'unusable') return of(errorEvent({ jobId: running.jobId, executionNumber: running.executionNumber }, outcome.error));
      if (outcome.kind === 'accepted') return resumeWith(context, options, running, outcome.value.execution);
      const ended = statusOfRefusedDescribe(outcome.error);
      if (ended !== undefined) {
        dropRunning(context, options, running);
        return of<RunnerEvent>({ jobId: running.jobId, executionNumber: running.executionNumber, kind: 'canceled', status: ended });
      }
      return of(errorEvent({ jobId: running.jobId, executionNumber: running.executionNumber }, outcome.error));
    }),
  );
