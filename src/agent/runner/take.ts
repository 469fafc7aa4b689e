import type { JobExecution } from '../../codecs/job-execution';
import { DeviceStatus } from '../../codecs/job-execution';
import { isJobId } from '../../codecs/primitives';
import { JobsError } from '../../errors';
import { type Observable, concat, defer, map, mergeMap, of } from '../../rx';
import type { ExecutionRef, RunnerEvent } from '../events';
import type { JobHandler, Match } from '../handler';
import type { RunningExecution } from '../journal';
import { retryUpdate } from '../retry-update';
import type { RunnerContext } from './context';
import { deliverStatus, statusOfRefusedDescribe } from './deliver';
import { runExecution } from './execution';
import { finishExecution } from './finish';
import { toJobsError } from './resilient';

/**
 * Taking work: the drain (StartNext until the queue is empty, one execution at a time), the choice of a
 * handler for each document, and the resumption of the execution the journal says was running.
 */

/** The handlers, and what makes a running execution check whether it was canceled meanwhile. */
export interface TakeOptions {
  readonly handlers: readonly JobHandler[];
  readonly recheck: Observable<unknown>;
}

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

/** Runs one execution that StartNext has just put IN_PROGRESS (or reports it again if it ran here before). */
const runTaken = (context: RunnerContext, options: TakeOptions, execution: JobExecution): Observable<RunnerEvent> =>
  defer(() => {
    const { jobId } = execution;
    if (!isJobId(jobId)) return of(errorEvent(undefined, new JobsError(`StartNext returned an execution with an invalid job id ${JSON.stringify(jobId)}`)));
    const ref: ExecutionRef = { jobId, executionNumber: execution.executionNumber ?? 0 };
    const version = execution.versionNumber;
    const { running } = context.journal;
    if (running?.jobId === jobId && running.executionNumber === ref.executionNumber) return resumeWith(context, options, running, execution);
    // StartNext returns IN_PROGRESS executions first: one the journal still holds is no longer in progress.
    if (running !== undefined) context.journal.clear();
    const done = context.journal.state.completed.find((item) => item.jobId === jobId && item.executionNumber === ref.executionNumber);
    if (done !== undefined) {
      // Its outcome was delivered (or refused) and it is IN_PROGRESS again: never run it twice.
      const status = DeviceStatus.is(done.status) ? done.status : 'FAILED';
      const again = { jobId, executionNumber: ref.executionNumber, status, statusDetails: { reason: `completed earlier on this device as ${done.status}` } };
      return concat(
        of(errorEvent(ref, new JobsError(`execution ${jobId}#${String(ref.executionNumber)} was completed here before; reporting ${status} again`))),
        deliverStatus(context, again, version).pipe(map((delivery): RunnerEvent => (delivery.kind === 'accepted' ? { ...ref, kind: 'reported', status, attempts: delivery.attempts } : delivery.kind === 'gone' ? { ...ref, kind: 'canceled', status: delivery.status } : errorEvent(ref, delivery.error)))),
      );
    }
    let choice: Choice;
    try {
      choice = choose(options.handlers, execution.jobDocument);
    } catch (error) {
      return finishExecution(context, ref, 'REJECTED', { reason: `the job document could not be checked: ${toJobsError(error).message}` }, version);
    }
    if (choice === undefined) return finishExecution(context, ref, 'REJECTED', { reason: 'no handler on this device accepts this job document' }, version);
    if (!choice.match.ok) return finishExecution(context, ref, 'REJECTED', { reason: choice.match.reason }, version);
    return runExecution(
      context,
      { ref, versionNumber: version, handler: choice.handler, document: choice.match.document, resumed: false, checkpoint: undefined, step: undefined, startedAtMs: context.scheduler.now() },
      options.recheck,
    );
  });

/**
 * StartNext, run what it returns, and again, until the queue is empty. A StartNext that fails for good
 * ends the drain with an `error` event (the next wake-up tries again).
 */
export const drainQueue = (context: RunnerContext, options: TakeOptions): Observable<RunnerEvent> => {
  const { stepTimeoutInMinutes } = context;
  const next = (): Observable<RunnerEvent> =>
    retryUpdate(() => context.client.startNextPendingJobExecution(stepTimeoutInMinutes === undefined ? {} : { stepTimeoutInMinutes }), context.retry).pipe(
      mergeMap((outcome) => {
        if (outcome.kind !== 'accepted') return of(errorEvent(undefined, outcome.error));
        const { execution } = outcome.value;
        return execution === undefined ? of<RunnerEvent>({ kind: 'idle' }) : concat(runTaken(context, options, execution), defer(next));
      }),
    );
  return defer(next);
};

/** Resumes `running` (the journal's) as the service describes it now (`execution`, absent when gone). */
const resumeWith = (context: RunnerContext, options: TakeOptions, running: RunningExecution, execution: JobExecution | undefined): Observable<RunnerEvent> =>
  defer(() => {
    const ref: ExecutionRef = { jobId: running.jobId, executionNumber: running.executionNumber };
    if (execution?.status !== 'IN_PROGRESS') {
      context.journal.clear();
      return of<RunnerEvent>({ ...ref, kind: 'canceled', status: execution?.status ?? 'REMOVED' });
    }
    const version = execution.versionNumber;
    const interrupted = (detail: string): Observable<RunnerEvent> => finishExecution(context, ref, 'FAILED', { reason: interruptedReason, detail }, version);
    const handler = options.handlers.find((candidate) => candidate.name === running.handler);
    if (handler?.resumable !== true) return interrupted(`the runner stopped while this job ran, and its handler "${running.handler}" cannot resume`);
    const match = handler.match(execution.jobDocument);
    if (match === undefined) return interrupted(`handler "${handler.name}" no longer accepts this job document`);
    if (!match.ok) return interrupted(match.reason);
    const elapsedMs = Math.max(0, Date.now() - running.startedAt.getTime());
    return runExecution(
      context,
      { ref, versionNumber: version, handler, document: match.document, resumed: true, checkpoint: running.checkpoint, step: running.step, startedAtMs: context.scheduler.now() - elapsedMs },
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
  retryUpdate(() => context.client.describeJobExecution({ jobId: running.jobId, executionNumber: running.executionNumber }), context.retry).pipe(
    mergeMap((outcome): Observable<RunnerEvent> => {
      if (outcome.kind === 'accepted') return resumeWith(context, options, running, outcome.value.execution);
      const ended = statusOfRefusedDescribe(outcome.error);
      if (ended !== undefined) {
        context.journal.clear();
        return of<RunnerEvent>({ jobId: running.jobId, executionNumber: running.executionNumber, kind: 'canceled', status: ended });
      }
      return of(errorEvent({ jobId: running.jobId, executionNumber: running.executionNumber }, outcome.error));
    }),
  );
