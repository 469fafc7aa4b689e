import { Observable, firstValueFrom, of } from 'rxjs';
import { afterward, later } from '../../src/util/later';

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
});
