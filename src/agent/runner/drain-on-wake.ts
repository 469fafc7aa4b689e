import { type OperatorFunction, type Subscription, Observable } from '../../rx-extra';

/**
 * Runs `drain` on each wake-up of the source, one drain at a time, and never loses a wake-up: a value that
 * arrives while a drain runs marks the work as dirty, and the drain runs once more when it completes
 * (however many values arrived meanwhile). This is `exhaustMap` with a trailing run, which is what a job
 * queue needs: a notification that arrives while the previous StartNext is on the wire may be about a job
 * that StartNext did not see.
 *
 * Completes when the source has completed and no drain runs or is owed. Errors: the first error of the
 * source or of a drain.
 */
export const drainOnWake =
  <T>(drain: () => Observable<T>): OperatorFunction<unknown, T> =>
  (source) =>
    new Observable<T>((subscriber) => {
      let running: Subscription | undefined;
      let owed = false;
      let sourceDone = false;

      const start = (): void => {
        owed = false;
        const state = { completed: false };
        const inner = drain().subscribe({
          next: (value) => {
            subscriber.next(value);
          },
          error: (error: unknown) => {
            subscriber.error(error);
          },
          complete: () => {
            state.completed = true;
            running = undefined;
            if (owed) start();
            else if (sourceDone) subscriber.complete();
          },
        });
        // A drain that completed synchronously has already started the next one (or finished).
        if (!state.completed) running = inner;
      };

      const outer = source.subscribe({
        next: () => {
          if (running === undefined) start();
          else owed = true;
        },
        error: (error: unknown) => {
          subscriber.error(error);
        },
        complete: () => {
          sourceDone = true;
          if (running === undefined && !owed) subscriber.complete();
        },
      });
      return () => {
        outer.unsubscribe();
        running?.unsubscribe();
      };
    });
