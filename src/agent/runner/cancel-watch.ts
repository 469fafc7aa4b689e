import type { JobExecutionsChangedEvent, NextJobExecutionChangedEvent } from '../../codecs/events';
import type { JobExecutionStatus } from '../../codecs/job-execution';
import { type Observable, catchError, exhaustMap, filter, map, merge, of } from '../../rx-extra';
import type { ExecutionRef } from '../events';
import type { RunnerContext } from './context';
import { readExecution } from './deliver';
import { type Survived, resilient, toJobsError } from './resilient';

/**
 * Notices that the running execution was canceled, removed, deleted or timed out: a `notify` that no longer
 * lists it as IN_PROGRESS, or a `notify-next` about another execution, makes the runner Describe it; the
 * execution is gone only when Describe says it is no longer IN_PROGRESS. Notifications alone are never
 * trusted (they arrive late, twice, or out of order). `recheck` (reconnects, the periodic poll) makes it
 * Describe as well, for notifications lost while the connection was down.
 */

/** The running execution ended elsewhere, now in `status`. */
export interface Gone {
  readonly status: JobExecutionStatus;
}

const sameExecution = (ref: ExecutionRef, jobId: string, executionNumber: number | undefined): boolean =>
  jobId === ref.jobId && (executionNumber === undefined || executionNumber === ref.executionNumber);

const stillListed = (ref: ExecutionRef, event: JobExecutionsChangedEvent): boolean =>
  (event.jobs.IN_PROGRESS ?? []).some((summary) => sameExecution(ref, summary.jobId, summary.executionNumber));

const stillNext = (ref: ExecutionRef, event: NextJobExecutionChangedEvent): boolean =>
  event.execution !== undefined && sameExecution(ref, event.execution.jobId, event.execution.executionNumber);

/**
 * Emits {@link Gone} at most once, when `ref` is confirmed no longer IN_PROGRESS, and errors it survived
 * (a notification stream that failed, a Describe that failed) as they happen. Never errors or completes by itself.
 */
export const watchForCancel = (context: RunnerContext, ref: ExecutionRef, recheck: Observable<unknown>): Observable<Survived<Gone>> => {
  const { client, resubscribeDelayMs, scheduler } = context;
  const suspicious = merge<Survived<unknown>[]>(
    recheck.pipe(map((value): Survived<unknown> => ({ kind: 'value', value }))),
    // A notification that could not be decoded may have been the cancellation: check. (runJobs reports it.)
    client.eventDecodeErrors().pipe(map((value): Survived<unknown> => ({ kind: 'value', value }))),
    resilient(client.jobExecutionsChanged(), resubscribeDelayMs, scheduler).pipe(
      filter((item) => item.kind === 'error' || !stillListed(ref, item.value)),
    ),
    resilient(client.nextJobExecutionChanged(), resubscribeDelayMs, scheduler).pipe(
      filter((item) => item.kind === 'error' || !stillNext(ref, item.value)),
    ),
  );
  let confirmed = false;
  return suspicious.pipe(
    filter(() => !confirmed),
    // One Describe at a time; notifications that arrive meanwhile are answered by the Describe in flight.
    exhaustMap((item): Observable<Survived<Gone>> => {
      if (item.kind === 'error') return of(item);
      return readExecution(context, ref.jobId, ref.executionNumber).pipe(
        filter((now) => now.status !== 'IN_PROGRESS'),
        map((now): Survived<Gone> => {
          confirmed = true;
          return { kind: 'value', value: { status: now.status } };
        }),
        catchError((error: unknown) => of<Survived<Gone>>({ kind: 'error', error: toJobsError(error) })),
      );
    }),
  );
};
