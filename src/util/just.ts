import { Observable } from '../rx';

/**
 * `of(value)` for one value: emits it and completes, synchronously. RxJS's `of` goes through `from` and its
 * schedulers, a dozen modules more for the device entry to load at start-up (docs/benchmarks.md, cold
 * start); the device path needs none of them.
 */
export const just = <T>(value: T): Observable<T> =>
  new Observable<T>((subscriber) => {
    subscriber.next(value);
    subscriber.complete();
  });
