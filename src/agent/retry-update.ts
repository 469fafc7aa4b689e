import { RejectedError, RequestTimeoutError, TransportError, type RejectedExecutionState } from '../errors';
import {
  type Observable,
  type SchedulerLike,
  asyncScheduler,
  catchError,
  defer,
  map,
  of,
  retry,
  take,
  throwError,
  throwIfEmpty,
  timer,
} from '../rx-extra';

/**
 * Delivery of one status update (UpdateJobExecution) through throttling, timeouts and disconnects:
 * exponential backoff with full jitter until the service accepts it or definitively refuses it. A
 * VersionMismatch is an outcome of its own, so the caller can Describe the execution and decide again.
 */

/**
 * What to do after a failed attempt: `retry` it, report a `version-mismatch` or a definitive `rejected`
 * outcome, or let the error through as `fatal` (a bug or a reply that cannot be read: retrying cannot help).
 */
export type UpdateErrorKind = 'retry' | 'version-mismatch' | 'rejected' | 'fatal';

// HTTP statuses of a TransportError worth retrying: expired credentials or clock skew (403), timeouts
// (408), throttling (429). Other 4xx replies will not change; 5xx and network failures may.
const retryableHttp = new Set([403, 408, 429]);

/**
 * The default classification: RequestThrottled and InternalError rejections, {@link RequestTimeoutError}
 * and {@link TransportError} (network, MQTT, HTTP 403/408/429/5xx) are retried; VersionMismatch is
 * `version-mismatch`; other rejections and other HTTP 4xx replies are `rejected`; anything else is `fatal`.
 */
export const classifyUpdateError = (error: unknown): UpdateErrorKind => {
  if (error instanceof RejectedError) {
    if (error.code === 'RequestThrottled' || error.code === 'InternalError') return 'retry';
    return error.code === 'VersionMismatch' ? 'version-mismatch' : 'rejected';
  }
  if (error instanceof RequestTimeoutError) return 'retry';
  if (error instanceof TransportError) {
    const status = error.httpStatus;
    return status === undefined || status >= 500 || retryableHttp.has(status) || status < 400 ? 'retry' : 'rejected';
  }
  return 'fatal';
};

/** Fields every {@link UpdateOutcome} has. */
export interface UpdateAttempts {
  /** Attempts made, the last included. */
  readonly attempts: number;
  /**
   * True when an earlier attempt may have reached the service (it timed out or lost its connection, or
   * got InternalError). A VersionMismatch, InvalidStateTransition or TerminalStateReached can then be the
   * echo of our own earlier success: Describe the execution before treating it as a failure.
   */
  readonly earlierMayHaveApplied: boolean;
}

/** How a status update ended. Fatal errors are not outcomes: the Observable errors with them. */
export type UpdateOutcome<T> =
  | (UpdateAttempts & { readonly kind: 'accepted'; readonly value: T })
  | (UpdateAttempts & {
      readonly kind: 'version-mismatch';
      readonly error: unknown;
      /** The execution's current state, when the rejection carried it. */
      readonly executionState: RejectedExecutionState | undefined;
    })
  | (UpdateAttempts & { readonly kind: 'rejected'; readonly error: unknown })
  | (UpdateAttempts & { readonly kind: 'gave-up'; readonly error: unknown });

/** One retry about to be scheduled (for logs and runner events). */
export interface UpdateRetry {
  /** The attempt that failed (1 for the first). */
  readonly attempt: number;
  readonly error: unknown;
  /** Wait before the next attempt. */
  readonly delayMs: number;
}

/** Options of {@link retryUpdate}; every field is optional. */
export interface RetryUpdateOptions {
  /** Decides what a failed attempt means. Default {@link classifyUpdateError}. */
  readonly classify?: (error: unknown) => UpdateErrorKind;
  /** Scheduler of the backoff timers. Default `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
  /** Backoff cap of the first retry; it doubles with each retry. Default 1000 ms. */
  readonly baseDelayMs?: number;
  /** Largest backoff cap. Default 60000 ms. */
  readonly maxDelayMs?: number;
  /** Source of jitter in [0, 1): each wait is `random() * cap` ("full jitter"). Default `Math.random`. */
  readonly random?: () => number;
  /** Attempts before a `gave-up` outcome. Default unlimited: an outbox entry is never abandoned. */
  readonly maxAttempts?: number;
  /** Called before each wait. Default none. */
  readonly onRetry?: (retry: UpdateRetry) => void;
}

/** The wait before retry number `retryCount` (1-based): full jitter under an exponential cap. */
export const backoffDelayMs = (retryCount: number, baseDelayMs: number, maxDelayMs: number, random: () => number): number =>
  Math.floor(random() * Math.min(maxDelayMs, baseDelayMs * 2 ** (retryCount - 1)));

/**
 * Sends a status update until it is accepted or definitively refused, and emits one
 * {@link UpdateOutcome}. `send` is called once per attempt and must return a cold Observable that makes
 * one request (each client operation does, with a fresh clientToken); its first value is the accepted
 * reply, and completing without one counts as a {@link TransportError}. Unsubscribing stops any wait and
 * attempt. Errors: whatever `classify` calls `fatal` (by default InvalidRequestError, DecodeError and
 * non-Jobs errors).
 * @example
 * retryUpdate(() => client.updateJobExecution({ jobId, status: 'SUCCEEDED', expectedVersion }))
 */
export const retryUpdate = <T>(send: () => Observable<T>, options: RetryUpdateOptions = {}): Observable<UpdateOutcome<T>> => {
  const {
    classify = classifyUpdateError,
    scheduler = asyncScheduler,
    baseDelayMs = 1000,
    maxDelayMs = 60_000,
    random = Math.random,
    maxAttempts = Number.POSITIVE_INFINITY,
    onRetry,
  } = options;
  return defer(() => {
    let attempts = 0;
    let earlierMayHaveApplied = false;
    const attempt$ = defer(() => {
      attempts += 1;
      return send();
    }).pipe(
      take(1),
      throwIfEmpty(() => new TransportError('the update completed without a reply', { operation: 'updateJobExecution' })),
    );
    return attempt$.pipe(
      retry({
        delay: (error: unknown, retryCount) => {
          if (classify(error) !== 'retry' || retryCount >= maxAttempts) return throwError(() => error);
          // A throttled request was refused before it was applied; anything else may have been applied.
          if (!(error instanceof RejectedError && error.code === 'RequestThrottled')) earlierMayHaveApplied = true;
          const delayMs = backoffDelayMs(retryCount, baseDelayMs, maxDelayMs, random);
          onRetry?.({ attempt: retryCount, error, delayMs });
          return timer(delayMs, scheduler);
        },
      }),
      map((value): UpdateOutcome<T> => ({ kind: 'accepted', value, attempts, earlierMayHaveApplied })),
      catchError((error: unknown) => {
        const common = { error, attempts, earlierMayHaveApplied };
        switch (classify(error)) {
          case 'version-mismatch':
            return of<UpdateOutcome<T>>({ ...common, kind: 'version-mismatch', executionState: error instanceof RejectedError ? error.executionState : undefined });
          case 'rejected':
            return of<UpdateOutcome<T>>({ ...common, kind: 'rejected' });
          case 'retry':
            return of<UpdateOutcome<T>>({ ...common, kind: 'gave-up' });
          case 'fatal':
            return throwError(() => error);
        }
      }),
    );
  });
};
