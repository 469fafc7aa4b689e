import { defer } from 'rxjs';
import { drainOnWake } from '../../src/agent/runner/drain-on-wake';
import { runMarbles } from '../helpers/marbles';

describe('drainOnWake', () => {
  it('drain on wake - wakes during a drain run it once more afterwards, however many came', () => {
    let runs = 0;
    runMarbles(({ cold, hot, expectObservable }) => {
      const drain = () =>
        defer(() => {
          runs += 1;
          return cold('--d|');
        });
      // w at 0 starts a drain (0→3); the wakes at 1 and 2 are owed: one more drain (3→6); w at 10: a third.
      expectObservable(hot('www-------w-----|').pipe(drainOnWake(drain))).toBe('--d--d------d---|');
    });
    expect(runs).toBe(3);
  });

  it('drain on wake - completes only when the source completed and no drain is owed', () => {
    runMarbles(({ cold, hot, expectObservable }) => {
      const wakes = hot('w-w|');
      expectObservable(wakes.pipe(drainOnWake(() => cold('----d|')))).toBe('----d----d|');
    });
  });

  it('drain on wake - a drain error is the error of the whole', () => {
    runMarbles(({ cold, hot, expectObservable }) => {
      expectObservable(hot('w--').pipe(drainOnWake(() => cold('-#')))).toBe('-#');
    });
  });

  it('drain on wake - a drain that completes at once lets the next wake start a new one', () => {
    runMarbles(({ cold, hot, expectObservable }) => {
      expectObservable(hot('w-w-w|').pipe(drainOnWake(() => cold('(d|)')))).toBe('d-d-d|');
    });
  });
});
