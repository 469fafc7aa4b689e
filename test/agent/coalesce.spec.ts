import { Subject, type Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { coalesceProgress, heartbeat } from '../../src/agent/coalesce';
import { runMarbles, testScheduler } from '../helpers/marbles';
import { seeded } from './random';

describe('coalesceProgress', () => {
  it('coalesce - emits the first value at once, then the latest value at most once per interval', () => {
    runMarbles(({ cold, expectObservable }) => {
      const source = cold(' a-b-c-d-------|');
      const expected = '   a----c----d---|';
      expectObservable(source.pipe(coalesceProgress({ minIntervalMs: 5 }))).toBe(expected);
    });
  });

  it('coalesce - a value after a quiet interval goes out at once', () => {
    runMarbles(({ cold, expectObservable }) => {
      expectObservable(cold('a---------b|').pipe(coalesceProgress({ minIntervalMs: 5 }))).toBe('a---------b|');
    });
  });

  it('coalesce - by default the last value held at completion goes out when the interval ends', () => {
    runMarbles(({ cold, expectObservable }) => {
      expectObservable(cold('a-b|').pipe(coalesceProgress({ minIntervalMs: 5 }))).toBe('a----(b|)');
    });
  });

  it('coalesce - with onComplete flush the last held value goes out on completion', () => {
    runMarbles(({ cold, expectObservable }) => {
      expectObservable(cold('a-b|').pipe(coalesceProgress({ minIntervalMs: 5, onComplete: 'flush' }))).toBe('a--(b|)');
    });
  });

  it('coalesce - completion with nothing held completes at once', () => {
    runMarbles(({ cold, expectObservable }) => {
      expectObservable(cold('a-|').pipe(coalesceProgress({ minIntervalMs: 5 }))).toBe('a-|');
      expectObservable(cold('--|').pipe(coalesceProgress({ minIntervalMs: 5 }))).toBe('--|');
    });
  });

  it('coalesce - an error passes through at once', () => {
    runMarbles(({ cold, expectObservable }) => {
      expectObservable(cold('a-b-#').pipe(coalesceProgress({ minIntervalMs: 10 }))).toBe('a---#');
    });
  });

  it('coalesce - unsubscribing stops the source and the pending interval', () => {
    runMarbles(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('a-b-c-----');
      expectObservable(source.pipe(coalesceProgress({ minIntervalMs: 5 })), '^--!').toBe('a--');
      expectSubscriptions(source.subscriptions).toBe('^--!');
    });
  });

  it('coalesce - a consumer feeding the source from its handler is still held back', () => {
    const scheduler = testScheduler();
    const seen: [string, number][] = [];
    scheduler.run(() => {
      const input = new Subject<string>();
      input.pipe(coalesceProgress({ minIntervalMs: 5 })).subscribe((value) => {
        seen.push([value, scheduler.now()]);
        if (value === 'a') input.next('a2');
      });
      input.next('a');
    });
    expect(seen).toEqual([
      ['a', 0],
      ['a2', 5],
    ]);
  });

  it('coalesce - on random timings the rate holds and the last value is never lost', () => {
    const random = seeded(7);
    for (let run = 0; run < 200; run++) {
      const minIntervalMs = random.int(1, 8);
      const length = random.int(0, 40);
      const values = Array.from({ length }, (_, i) => i);
      const times = values.map(() => random.int(0, 3));
      const onComplete = random.chance(0.5) ? 'wait' : 'flush';
      const emitted: { value: number; at: number }[] = [];
      let completedAt = -1;
      const scheduler = new TestScheduler(() => undefined);
      scheduler.run(({ cold }) => {
        const marble = `${times.map((gap, i) => `${'-'.repeat(gap)}${String.fromCharCode(97 + (i % 26))}`).join('')}|`;
        const source: Observable<number> = cold(marble, Object.fromEntries(values.map((i) => [String.fromCharCode(97 + (i % 26)), i])));
        source.pipe(coalesceProgress({ minIntervalMs, onComplete })).subscribe({
          next: (value) => emitted.push({ value, at: scheduler.now() }),
          complete: () => (completedAt = scheduler.now()),
        });
      });
      const gaps = emitted.slice(1).map((e, i) => e.at - (emitted[i]?.at ?? 0));
      // 'flush' may send the last value early; every other gap respects the interval.
      const rate = (onComplete === 'flush' ? gaps.slice(0, -1) : gaps).every((gap) => gap >= minIntervalMs);
      expect({ run, rate, completed: completedAt >= 0, last: emitted.at(-1)?.value }).toEqual({
        run,
        rate: true,
        completed: true,
        last: length === 0 ? undefined : length - 1,
      });
    }
  });
});

describe('heartbeat', () => {
  it('heartbeat - repeats the last value every interval while the source is silent', () => {
    runMarbles(({ cold, expectObservable }) => {
      const source = cold('a 25ms b 5ms |');
      const expected = '   a 9ms a 9ms a 5ms b 5ms |';
      expectObservable(source.pipe(heartbeat({ intervalMs: 10 }))).toBe(expected);
    });
  });

  it('heartbeat - emits nothing before the first value', () => {
    runMarbles(({ cold, expectObservable }) => {
      expectObservable(cold('------------|').pipe(heartbeat({ intervalMs: 5 }))).toBe('------------|');
    });
  });

  it('heartbeat - stops on error and on unsubscription', () => {
    runMarbles(({ cold, expectObservable, expectSubscriptions }) => {
      expectObservable(cold('a 12ms #').pipe(heartbeat({ intervalMs: 5 }))).toBe('a 4ms a 4ms a 2ms #');
      const source = cold('a');
      expectObservable(source.pipe(heartbeat({ intervalMs: 5 })), '^ 11ms !').toBe('a 4ms a 4ms a');
      expectSubscriptions(source.subscriptions).toBe('^ 11ms !');
    });
  });

  it('heartbeat - after coalesceProgress: repeats respect the rate, the last progress repeats', () => {
    runMarbles(({ cold, expectObservable }) => {
      const source = cold('abc 30ms |');
      const expected = '   a 4ms c 9ms c 9ms c 7ms |';
      expectObservable(source.pipe(coalesceProgress({ minIntervalMs: 5 }), heartbeat({ intervalMs: 10 }))).toBe(expected);
    });
  });
});
