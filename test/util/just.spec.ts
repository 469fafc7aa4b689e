import { Observable, catchError, expand, mergeMap, of, share, take, throwError, timer } from 'rxjs';
import { just } from '../../src/util/just';

/** What an observer sees, in order, and what ran at teardown. */
const trace = (source: Observable<unknown>): string[] => {
  const seen: string[] = [];
  source.subscribe({
    next: (value) => seen.push(`next ${JSON.stringify(value)}`),
    error: (error: unknown) => seen.push(`error ${error instanceof Error ? error.message : String(error)}`),
    complete: () => seen.push('complete'),
  });
  return seen;
};

describe('just', () => {
  // The device path uses just(value) where it used of(value): the same notifications in the same cases.
  it.each([
    ['alone', <T>(make: (value: T) => Observable<T>, value: T) => make(value)],
    ['take(1)', <T>(make: (value: T) => Observable<T>, value: T) => make(value).pipe(take(1))],
    ['as mergeMap inner', <T>(make: (value: T) => Observable<T>, value: T) => make(value).pipe(mergeMap((v) => make(v)))],
    ['after catchError', <T>(make: (value: T) => Observable<T>, value: T) => throwError(() => new Error('no')).pipe(catchError(() => make(value)))],
    ['downstream throws', <T>(make: (value: T) => Observable<T>, value: T) => make(value).pipe(mergeMap(() => throwError(() => new Error('down'))))],
    ['expand', <T>(make: (value: T) => Observable<T>, value: T) => make(value).pipe(expand((v, i) => (i < 2 ? make(v) : timer(0).pipe(take(0)))), take(3))],
    ['share', <T>(make: (value: T) => Observable<T>, value: T) => make(value).pipe(share())],
  ])('just - %s: the same notifications as of()', (_, build) => {
    for (const value of [1, 'x', { a: 1 }, undefined, null]) {
      expect(trace(build(just, value))).toEqual(trace(build((v) => of(v), value)));
    }
  });

  it('just - emits and completes synchronously, within subscribe()', () => {
    const seen: string[] = [];
    just(7).subscribe({ next: (value) => seen.push(`next ${value}`), complete: () => seen.push('complete') });
    seen.push('after subscribe');
    expect(seen).toEqual(['next 7', 'complete', 'after subscribe']);
  });
});
