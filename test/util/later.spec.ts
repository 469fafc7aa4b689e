import { Observable, firstValueFrom, of, take } from 'rxjs';
import { InvalidRequestError, TransportError } from '../../src';
import { afterward, later, startFailure, startLater } from '../../src/util/later';

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('later', () => {
  it('later - a subscription made before the value is ready waits for it; one made after runs at once', async () => {
    const made = later(() => Promise.resolve('module'));
    const seen: string[] = [];
    afterward(made, (value) => of(`${value} early`)).subscribe((item) => seen.push(item));
    expect(seen).toEqual([]);
    await tick();
    expect(seen).toEqual(['module early']);
    afterward(made, (value) => of(`${value} late`)).subscribe((item) => seen.push(item));
    expect(seen).toEqual(['module early', 'module late']);
  });

  it('later - unsubscribing before the value is ready uses nothing', async () => {
    const made = later(() => Promise.resolve(1));
    const use = jest.fn((value: number) => of(value));
    afterward(made, use).subscribe().unsubscribe();
    await tick();
    expect(use).not.toHaveBeenCalled();
  });

  it('later - unsubscribing after tears the inner subscription down', async () => {
    const made = later(() => Promise.resolve(1));
    await tick();
    let tornDown = false;
    const subscription = afterward(made, () => new Observable<number>(() => () => (tornDown = true))).subscribe();
    subscription.unsubscribe();
    expect(tornDown).toBe(true);
  });

  it('later - a value that cannot be made errors each subscriber, and is no unhandled rejection', async () => {
    const failure = new Error('cannot load');
    const made = later(() => Promise.reject(failure));
    await tick();
    await expect(firstValueFrom(afterward(made, () => of(1)))).rejects.toBe(failure);
    await expect(firstValueFrom(afterward(made, () => of(2)))).rejects.toBe(failure);
  });

  it('later - what `use` throws errors the subscriber, before and after the value is ready', async () => {
    const made = later(() => Promise.resolve(1));
    const thrown = new Error('use failed');
    const use = (): Observable<number> => {
      throw thrown;
    };
    const early = firstValueFrom(afterward(made, use));
    await expect(early).rejects.toBe(thrown);
    await expect(firstValueFrom(afterward(made, use))).rejects.toBe(thrown);
  });

  it('later - an inner stream ended by its first item before the value was ready is torn down (review of stop 13)', async () => {
    const made = later(() => Promise.resolve(1));
    let tornDown = false;
    const inner = new Observable<number>((subscriber) => {
      subscriber.next(1);
      return () => {
        tornDown = true;
      };
    });
    const seen: number[] = [];
    afterward(made, () => inner)
      .pipe(take(1))
      .subscribe((item) => seen.push(item));
    await tick();
    expect(seen).toEqual([1]);
    expect(tornDown).toBe(true);
  });

  it('later - startFailure makes a TransportError of what is not a JobsError, naming what could not start', () => {
    const cause = new RangeError('maxTotalSockets out of range');
    const failure = startFailure('the HTTPS transport', cause);
    expect(failure).toBeInstanceOf(TransportError);
    expect([failure.message, failure.cause]).toEqual(['cannot start the HTTPS transport: maxTotalSockets out of range', cause]);
    const typed = new InvalidRequestError(['x']);
    expect(startFailure('the HTTPS transport', typed)).toBe(typed);
  });

  it('later - startLater: a start that fails, by a rejection or a throw in its last step, errors typed', async () => {
    const rejected = startLater('the HTTPS transport', () => Promise.reject(new Error('no chunk')));
    const thrown = startLater('the credentials provider', () =>
      Promise.resolve().then((): number => {
        throw new RangeError('bad option');
      }),
    );
    const first = await firstValueFrom(afterward(rejected, () => of(1))).catch((e: unknown) => e);
    const second = await firstValueFrom(afterward(thrown, () => of(1))).catch((e: unknown) => e);
    expect([first, second].map((e) => (e instanceof TransportError ? e.message : e))).toEqual([
      'cannot start the HTTPS transport: no chunk',
      'cannot start the credentials provider: bad option',
    ]);
  });
});
