import { type MonoTypeOperatorFunction, type SchedulerLike, type Subscription, Observable, asyncScheduler, timer } from '../rx-extra';

/**
 * Rate control for progress reports: {@link coalesceProgress} keeps status updates under a rate (so a
 * chatty handler never gets the device throttled) without losing the latest value, and {@link heartbeat}
 * repeats the last value while a handler is quiet, so each repeat can renew `stepTimeoutInMinutes`.
 * Both are written out by hand rather than built from `throttleTime`/`switchMap` because their edges
 * (what happens to the last value on completion, when repeating stops) are the point.
 */

/** Options of {@link coalesceProgress}. */
export interface CoalesceProgressOptions {
  /** Least time between two emissions, in ms. */
  readonly minIntervalMs: number;
  /** Scheduler of the interval timer. Default `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
  /**
   * When the source completes with a value still held back: `'wait'` emits it when the current interval
   * ends (the rate is never exceeded), `'flush'` emits it at once. Either way it is emitted before
   * completion. Default `'wait'`.
   */
  readonly onComplete?: 'wait' | 'flush';
}

/**
 * Coalesces progress: the first value goes out at once; values arriving within `minIntervalMs` of the
 * previous emission are held and only the latest is emitted when the interval ends (which starts a new
 * interval); the last value is never lost on completion (see `onComplete`). Errors pass through at once
 * (a held value is dropped: the runner reports the failure instead). Errors: whatever the source emits.
 * @example
 * progress$.pipe(coalesceProgress({ minIntervalMs: 5_000 }), heartbeat({ intervalMs: 60_000 }))
 */
export const coalesceProgress = <T>(options: CoalesceProgressOptions): MonoTypeOperatorFunction<T> => {
  const { minIntervalMs, scheduler = asyncScheduler, onComplete = 'wait' } = options;
  return (source) =>
    new Observable<T>((subscriber) => {
      let held: { readonly value: T } | undefined;
      let interval: Subscription | undefined;
      let sourceDone = false;

      // The interval starts before the value goes out, so a consumer that feeds the source synchronously
      // from its next handler still gets held back.
      const emit = (value: T): void => {
        interval = timer(minIntervalMs, scheduler).subscribe(() => {
          interval = undefined;
          const next = held;
          held = undefined;
          if (next === undefined) return;
          if (sourceDone) {
            // Only reached with onComplete 'wait': the source completed while a value was held.
            subscriber.next(next.value);
            subscriber.complete();
          } else {
            emit(next.value);
          }
        });
        subscriber.next(value);
      };

      const subscription = source.subscribe({
        next: (value) => {
          if (interval === undefined) emit(value);
          else held = { value };
        },
        error: (error: unknown) => {
          subscriber.error(error);
        },
        complete: () => {
          sourceDone = true;
          if (held === undefined) {
            subscriber.complete();
          } else if (onComplete === 'flush') {
            const { value } = held;
            held = undefined;
            subscriber.next(value);
            subscriber.complete();
          }
          // 'wait': the interval's end emits the held value and completes.
        },
      });
      return () => {
        subscription.unsubscribe();
        interval?.unsubscribe();
      };
    });
};

/** Options of {@link heartbeat}. */
export interface HeartbeatOptions {
  /** Time of silence after which the last value is emitted again, and again every `intervalMs`. */
  readonly intervalMs: number;
  /** Scheduler of the heartbeat timer. Default `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
}

/**
 * Re-emits the last value every `intervalMs` while the source is silent (a new source value restarts the
 * wait). Nothing is emitted before the first value; repeating stops when the source completes, errors or
 * is unsubscribed. Put it after {@link coalesceProgress} so repeats also respect the rate, and pick an
 * interval well under the job's `stepTimeoutInMinutes`. Errors: whatever the source emits.
 */
export const heartbeat = <T>(options: HeartbeatOptions): MonoTypeOperatorFunction<T> => {
  const { intervalMs, scheduler = asyncScheduler } = options;
  return (source) =>
    new Observable<T>((subscriber) => {
      let beat: Subscription | undefined;
      const subscription = source.subscribe({
        next: (value) => {
          beat?.unsubscribe();
          subscriber.next(value);
          beat = timer(intervalMs, intervalMs, scheduler).subscribe(() => {
            subscriber.next(value);
          });
        },
        error: (error: unknown) => {
          subscriber.error(error);
        },
        complete: () => {
          subscriber.complete();
        },
      });
      return () => {
        subscription.unsubscribe();
        beat?.unsubscribe();
      };
    });
};
