import { Observable } from '../rx';
import { TransportError, isJobsError } from '../errors';
import { errorMessage } from './error-message';

/** A value made on first need by code loaded then (a dynamic `import()`), and the value once it is there. */
export interface Later<T> {
  /** The value, once made; `undefined` until then. */
  readonly now: () => T | undefined;
  /** Settles when the value is made, or with why it could not be. */
  readonly ready: Promise<T>;
}

/**
 * Starts making a value with `make` (which loads the code it needs), at once. The device entry uses it for the
 * HTTPS transport and the credentials provider: an MQTT device never loads their code, their RxJS operators or
 * node:http (docs/benchmarks.md, cold start).
 */
export const later = <T>(make: () => Promise<T>): Later<T> => {
  let value: T | undefined;
  const ready = make().then((made) => {
    value = made;
    return made;
  });
  // A failure reaches whoever subscribes through `afterward`; with nobody, it is not an unhandled rejection.
  ready.catch(() => undefined);
  return { now: () => value, ready };
};

/**
 * `use(value)` once `value` is made: at once when it is (so a subscription made after the load behaves as if
 * nothing were lazy), else when it is; unsubscribing before then uses nothing. Errors with what `make` or
 * `use` threw.
 */
export const afterward = <T, R>(value: Later<T>, use: (value: T) => Observable<R>): Observable<R> =>
  new Observable<R>((subscriber) => {
    const forward = (made: T) =>
      use(made).subscribe({
        next: (item) => {
          subscriber.next(item);
        },
        error: (error: unknown) => {
          subscriber.error(error);
        },
        complete: () => {
          subscriber.complete();
        },
      });
    const made = value.now();
    if (made !== undefined) return forward(made);
    let inner: { unsubscribe: () => void } | undefined;
    let closed = false;
    value.ready.then(
      (loaded) => {
        if (closed) return;
        try {
          inner = forward(loaded);
        } catch (error) {
          subscriber.error(error);
          return;
        }
        // Ended while `use`'s first items came (unsubscribed by `take(1)`, say), before `inner` was set.
        if (subscriber.closed) inner.unsubscribe();
      },
      (error: unknown) => {
        subscriber.error(error);
      },
    );
    return () => {
      closed = true;
      inner?.unsubscribe();
    };
  });

/**
 * Why `what` could not be made after its options were checked (its code did not load, or Node refused an option
 * that was not checked): a TransportError, so that the requests that wait for it error typed.
 */
export const startFailure = (what: string, error: unknown): Error =>
  isJobsError(error) ? error : new TransportError(`cannot start ${what}: ${errorMessage(error)}`, { cause: error });

/**
 * {@link later} for a part of the library that starts once its options are checked (`start` loads its code and
 * makes it): a failure to load or make it becomes {@link startFailure}'s TransportError.
 */
export const startLater = <T>(what: string, start: () => Promise<T>): Later<T> =>
  later(() => start().catch((error: unknown) => Promise.reject(startFailure(what, error))));
