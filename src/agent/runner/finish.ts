import { JobsError } from '../../errors';
import { type Observable, catchError, concat, defer, map, mergeMap, of } from '../../rx-extra';
import type { HandlerDetails } from '../handler';
import type { OutboxEntry } from '../journal';
import type { ExecutionRef, RunnerEvent } from '../events';
import type { RunnerContext } from './context';
import { isTerminalStatus } from '../../codecs/job-execution';
import { sameSecond } from '../journal';
import { type Delivery, type StatusToSend, deliverStatus, readExecution } from './deliver';
import { toJobsError } from './resilient';

/**
 * The end of an execution: the outcome is journaled (completion and outbox entry in one write) before
 * anything is sent, so a crash at any later point replays it; then it is delivered and acknowledged.
 */

/** Terminal statuses a runner reports. */
export type RunnerOutcome = 'SUCCEEDED' | 'FAILED' | 'REJECTED';

const eventOf = (ref: ExecutionRef, entry: OutboxEntry, delivery: Delivery): RunnerEvent => {
  switch (delivery.kind) {
    case 'accepted':
      return { ...ref, kind: 'reported', status: entry.status, attempts: delivery.attempts };
    case 'gone':
      return { ...ref, kind: 'canceled', status: delivery.status };
    case 'refused':
      return { ...ref, kind: 'error', error: delivery.error };
  }
};

/**
 * Delivers one outbox entry (with `expectedVersion` when known) and removes it from the outbox once the
 * service accepted it, refused it for good, or the execution is gone; an entry given up after
 * `retry.maxAttempts` stays. Emits `reported`, `canceled` or
 * `error`. An unexpected error (a bug) is reported as an `error` event and the entry is dropped, since
 * sending it again would fail again.
 */
export const deliverEntry = (context: RunnerContext, entry: OutboxEntry, expectedVersion: number | undefined): Observable<RunnerEvent> =>
  defer(() => {
    const { journal } = context;
    const ref: ExecutionRef = { jobId: entry.jobId, executionNumber: entry.executionNumber ?? 0 };
    const sent = journal.attempted(entry.id) ?? entry;
    const { jobId, executionNumber, status, statusDetails, stepTimeoutInMinutes } = sent;
    const update: StatusToSend = {
      jobId,
      status,
      ...(executionNumber === undefined ? {} : { executionNumber }),
      ...(statusDetails === undefined ? {} : { statusDetails }),
      ...(stepTimeoutInMinutes === undefined ? {} : { stepTimeoutInMinutes }),
    };
    return deliverStatus(context, update, expectedVersion ?? sent.expectedVersion).pipe(
      map((delivery) => {
        // Given up (maxAttempts) but not refused: the entry stays for the next start or the next StartNext.
        if (delivery.kind !== 'refused' || delivery.final) {
          journal.ack(entry.id, delivery.kind === 'accepted' && delivery.versionNumber !== undefined ? { versionNumber: delivery.versionNumber } : {});
        }
        return eventOf(ref, entry, delivery);
      }),
      catchError((error: unknown) => {
        journal.ack(entry.id);
        const wrapped = error instanceof JobsError ? error : new JobsError(String(error), { cause: error });
        return of<RunnerEvent>({ ...ref, kind: 'error', error: wrapped });
      }),
    );
  });

/** The `reason` detail: FAILED and REJECTED always carry one. */
const withReason = (status: RunnerOutcome, details: HandlerDetails): HandlerDetails => {
  if (status === 'SUCCEEDED') return details;
  const { reason } = details;
  return typeof reason === 'string' && reason !== '' ? details : { ...details, reason: status === 'FAILED' ? 'the job failed' : 'the job was rejected' };
};

/**
 * Ends an execution with `status`: encodes `details` within the service's limits, journals the
 * completion and the update together, emits `succeeded`, `failed` or `rejected`, then delivers the update.
 * Errors: JournalError when the journal cannot be written (nothing was sent).
 */
export const finishExecution = (
  context: RunnerContext,
  ref: ExecutionRef,
  status: RunnerOutcome,
  details: HandlerDetails,
  expectedVersion: number | undefined,
  queuedAt?: Date,
): Observable<RunnerEvent> =>
  defer(() => {
    const { details: statusDetails } = context.encode(withReason(status, details));
    const entry = context.journal.complete(
      { jobId: ref.jobId, executionNumber: ref.executionNumber, status, ...(queuedAt === undefined ? {} : { queuedAt }) },
      // Without statusDetails the service keeps the last ones sent (the last progress).
      {
        jobId: ref.jobId,
        executionNumber: ref.executionNumber,
        status,
        ...(Object.keys(statusDetails).length === 0 ? {} : { statusDetails }),
        ...(queuedAt === undefined ? {} : { queuedAt }),
      },
    );
    const reason = statusDetails['reason'] ?? '';
    const decided: RunnerEvent =
      status === 'SUCCEEDED' ? { ...ref, kind: 'succeeded', statusDetails } : { ...ref, kind: status === 'FAILED' ? 'failed' : 'rejected', reason, statusDetails };
    return concat(of(decided), entry === undefined ? of() : deliverEntry(context, entry, expectedVersion));
  });

/**
 * Delivers an outbox entry left by an earlier run (a crash between decision and delivery), after checking
 * that it still has an addressee: the execution must be IN_PROGRESS and, when both are known, queued at the
 * same second. An execution ended meanwhile is `reported` (our outcome is there) or `canceled`; one that
 * was deleted and created again with the same job id (QUEUED, or another `queuedAt`) must not receive the old
 * outcome: the entry is dropped with an `error` event. When the check cannot be made, the entry stays.
 */
export const replayEntry = (context: RunnerContext, entry: OutboxEntry): Observable<RunnerEvent> =>
  defer(() => {
    const { journal } = context;
    const ref: ExecutionRef = { jobId: entry.jobId, executionNumber: entry.executionNumber ?? 0 };
    return readExecution(context, entry.jobId, entry.executionNumber).pipe(
      mergeMap((now): Observable<RunnerEvent> => {
        if (now.status === entry.status) {
          journal.ack(entry.id);
          return of({ ...ref, kind: 'reported', status: entry.status, attempts: entry.attempts });
        }
        if (isTerminalStatus(now.status)) {
          journal.ack(entry.id);
          return of({ ...ref, kind: 'canceled', status: now.status });
        }
        const recreated = entry.queuedAt !== undefined && now.queuedAt !== undefined && !sameSecond(entry.queuedAt, now.queuedAt);
        if (now.status !== 'IN_PROGRESS' || recreated) {
          journal.ack(entry.id);
          const why = `the execution was created again (${now.status}${recreated ? ', queued at another time' : ''})`;
          return of({ ...ref, kind: 'error', error: new JobsError(`dropped the undelivered ${entry.status} of ${entry.jobId}#${String(ref.executionNumber)}: ${why}`) });
        }
        return deliverEntry(context, entry, now.versionNumber);
      }),
      catchError((error: unknown) => of<RunnerEvent>({ ...ref, kind: 'error', error: toJobsError(error) })),
    );
  });
