import { JobsError } from '../../errors';
import { type Observable, type SchedulerLike, catchError, concat, defer, map, mergeMap, of, timer } from '../../rx-extra';
import { errorMessage } from '../../util/error-message';

/** A value of the stream, or an error it survived. */
export type Survived<T> = { readonly kind: 'value'; readonly value: T } | { readonly kind: 'error'; readonly error: JobsError };

/** Wraps anything thrown into a {@link JobsError} (JobsErrors pass as they are). */
export const toJobsError = (error: unknown): JobsError =>
  error instanceof JobsError ? error : new JobsError(errorMessage(error), { cause: error });

/**
 * Keeps a long-lived stream (a notification stream, the wake-ups) alive through its errors: each error is
 * emitted as a value, then the stream is subscribed again after `delayMs`. A runner must not stop because
 * a notification stream failed (the broker refused its subscription, say).
 */
export const resilient = <T>(stream: Observable<T>, delayMs: number, scheduler: SchedulerLike): Observable<Survived<T>> => {
  const attempt = (): Observable<Survived<T>> =>
    stream.pipe(
      map((value): Survived<T> => ({ kind: 'value', value })),
      catchError((error: unknown) =>
        concat(
          of<Survived<T>>({ kind: 'error', error: toJobsError(error) }),
          timer(delayMs, scheduler).pipe(mergeMap(() => defer(attempt))),
        ),
      ),
    );
  return defer(attempt);
};
