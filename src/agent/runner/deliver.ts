import type { JobsClient } from '../../client';
import { type DeviceStatus, JobExecutionStatus, isTerminalStatus } from '../../codecs/job-execution';
import type { StatusDetails } from '../../codecs/primitives';
import { DecodeError, type JobsError, RejectedError } from '../../errors';
import { type Observable, catchError, defer, mergeMap, of, throwError } from '../../rx-extra';
import { toJobsError } from './resilient';
import { type RetryUpdateOptions, type UpdateOutcome, classifyUpdateError, retryUpdate } from '../retry-update';

/**
 * Delivery of one status update to the service, with the version rules of ARCHITECTURE.md §5: the update
 * carries `expectedVersion`; a VersionMismatch re-reads the execution and tries again with its version; a
 * refusal that may be the echo of our own earlier attempt (the attempt timed out but was applied) is
 * checked by reading the execution; an execution that ended elsewhere (canceled, removed, timed out) is
 * `gone`, which is not an error: the runner drops the update.
 */

/** What the runner reports. */
export interface StatusToSend {
  readonly jobId: string;
  readonly executionNumber?: number;
  readonly status: DeviceStatus;
  readonly statusDetails?: StatusDetails;
  /** Renews (or with -1 stops) the service's step timer. */
  readonly stepTimeoutInMinutes?: number;
}

/** How a delivery ended. */
export type Delivery =
  | { readonly kind: 'accepted'; readonly versionNumber: number | undefined; readonly attempts: number }
  /** The execution is no longer ours to update: it is in `status` now (REMOVED when it no longer exists). */
  | { readonly kind: 'gone'; readonly status: JobExecutionStatus; readonly attempts: number }
  /**
   * Not delivered: refused for good (`final`: an invalid request, a state the runner did not expect), or
   * given up after `maxAttempts` (not `final`: worth sending again later).
   */
  | { readonly kind: 'refused'; readonly error: JobsError; readonly attempts: number; readonly final: boolean };

/** What the service says about an execution now. */
export interface ExecutionNow {
  /** REMOVED when the execution does not exist (deleted, or never was). */
  readonly status: JobExecutionStatus;
  readonly versionNumber: number | undefined;
  readonly queuedAt: Date | undefined;
}

/** The client operations and retry policy a delivery needs. */
export interface DeliveryContext {
  readonly client: Pick<JobsClient, 'describeJobExecution' | 'updateJobExecution'>;
  readonly retry: RetryUpdateOptions;
}

/** Re-reads after VersionMismatch before the update is refused (the execution keeps changing under us). */
const maxVersionRereads = 5;


/**
 * The status a Describe refusal implies: ResourceNotFound means the execution no longer exists (REMOVED);
 * TerminalStateReached, which AWS sends when Describe meets a terminal execution of a canceled or deleted job
 * (../shared/spec/jobs-api.md §2, UNCONFIRMED), means it ended: the status it carries, else CANCELED.
 * `undefined` for any other error.
 */
export const statusOfRefusedDescribe = (error: unknown): JobExecutionStatus | undefined => {
  if (!(error instanceof RejectedError)) return undefined;
  if (error.code === 'ResourceNotFound') return 'REMOVED';
  if (error.code !== 'TerminalStateReached') return undefined;
  const reported = error.executionState?.status;
  return JobExecutionStatus.is(reported) && isTerminalStatus(reported) ? reported : 'CANCELED';
};

/**
 * Reads an execution's status and version, retrying throttling, timeouts and disconnects like an update.
 * Errors: a refusal that says nothing about the status (as a JobsError), or a fatal error.
 */
export const readExecution = (context: DeliveryContext, jobId: string, executionNumber: number | undefined): Observable<ExecutionNow> =>
  retryUpdate(
    () => context.client.describeJobExecution({ jobId, includeJobDocument: false, ...(executionNumber === undefined ? {} : { executionNumber }) }),
    context.retry,
  ).pipe(
    mergeMap((outcome): Observable<ExecutionNow> => {
      if (outcome.kind === 'accepted') {
        const { execution } = outcome.value;
        return of(
          execution === undefined
            ? { status: 'REMOVED', versionNumber: undefined, queuedAt: undefined }
            : { status: execution.status, versionNumber: execution.versionNumber, queuedAt: execution.queuedAt },
        );
      }
      const status = statusOfRefusedDescribe(outcome.error);
      if (status !== undefined) return of({ status, versionNumber: undefined, queuedAt: undefined });
      return throwError(() => toJobsError(outcome.error));
    }),
  );

// Refusals that can be the echo of our own earlier attempt, or mean the execution ended elsewhere.
const stateCodes = new Set(['TerminalStateReached', 'InvalidStateTransition', 'ResourceNotFound', 'VersionMismatch']);

/**
 * Sends `update` with `expectedVersion` (none when undefined) until it is accepted, found `gone`, or
 * refused. Never errors for a service answer (one that cannot be decoded is judged by reading the
 * execution); errors only with a fatal error (a bug: InvalidRequestError), which the runner reports.
 */
export const deliverStatus = (context: DeliveryContext, update: StatusToSend, expectedVersion: number | undefined): Observable<Delivery> => {
  const { jobId, executionNumber, status } = update;
  let attempts = 0;

  // Judges a refusal by what the service says now.
  const judge = (outcome: Exclude<UpdateOutcome<unknown>, { kind: 'accepted' }>, rereads: number): Observable<Delivery> =>
    readExecution(context, jobId, executionNumber).pipe(
      mergeMap((now): Observable<Delivery> => {
        if (isTerminalStatus(now.status)) {
          // Only a device sets SUCCEEDED, FAILED or REJECTED: finding ours means an earlier attempt (this
          // process's, timed out, or one before a restart) was applied. Any other terminal status was set
          // by the service (canceled, removed, timed out).
          return of(now.status === status ? { kind: 'accepted', versionNumber: now.versionNumber, attempts } : { kind: 'gone', status: now.status, attempts });
        }
        if (outcome.kind === 'version-mismatch' && rereads < maxVersionRereads) return attempt(now.versionNumber, rereads + 1);
        // Still not applied: refused for good, or, when the answer could not be read, still owed.
        return of({ kind: 'refused', error: toJobsError(outcome.error), attempts, final: outcome.kind !== 'gave-up' });
      }),
      // The read that judges a refusal failed (it gave up, or a bug): the update may still be owed.
      catchError((error: unknown) => of<Delivery>({ kind: 'refused', error: toJobsError(error), attempts, final: classifyUpdateError(error) !== 'retry' })),
    );

  const attempt = (version: number | undefined, rereads: number): Observable<Delivery> =>
    retryUpdate(
      () =>
        context.client.updateJobExecution({
          ...update,
          includeJobExecutionState: true,
          ...(version === undefined ? {} : { expectedVersion: version }),
        }),
      context.retry,
    ).pipe(
      mergeMap((outcome): Observable<Delivery> => {
        attempts += outcome.attempts;
        switch (outcome.kind) {
          case 'accepted':
            return of({ kind: 'accepted', versionNumber: outcome.value.executionState?.versionNumber, attempts });
          case 'version-mismatch':
            return judge(outcome, rereads);
          case 'rejected':
            return outcome.error instanceof RejectedError && stateCodes.has(outcome.error.code)
              ? judge(outcome, rereads)
              : of({ kind: 'refused', error: toJobsError(outcome.error), attempts, final: true });
          case 'gave-up':
            return of({ kind: 'refused', error: toJobsError(outcome.error), attempts, final: false });
        }
      }),
      // A reply that fails its codec (a rejection without its code, say) does not say whether the update was
      // applied: judged by reading the execution, and still owed if it was not.
      catchError((error: unknown) => {
        if (!(error instanceof DecodeError)) return throwError(() => error);
        attempts += 1;
        return judge({ kind: 'gave-up', error, attempts: 1, earlierMayHaveApplied: true }, rereads);
      }),
    );

  return defer(() => attempt(expectedVersion, 0));
};
