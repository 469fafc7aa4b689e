import { type Observable, EMPTY, NEVER } from 'rxjs';
import { backoffDelayMs, classifyUpdateError, retryUpdate, type RetryUpdateOptions, type UpdateRetry } from '../../src/agent/retry-update';
import { DecodeError, InvalidRequestError, RejectedError, RequestTimeoutError, TransportError } from '../../src/errors';
import { runMarbles } from '../helpers/marbles';
import { seeded } from './random';

const rejected = (code: string, executionState?: { status: string; versionNumber: number }): RejectedError =>
  new RejectedError({ code, message: code, operation: 'updateJobExecution', clientToken: 't', ...(executionState === undefined ? {} : { executionState }) });
const throttled = rejected('RequestThrottled');
const timedOut = new RequestTimeoutError('updateJobExecution', 't', 1000);
const disconnected = new TransportError('connection lost', { operation: 'updateJobExecution' });

/** `send` that hands out the given Observables, one per attempt, and counts the attempts. */
const sequence = <T>(attempts: readonly Observable<T>[]): { send: () => Observable<T>; calls: () => number } => {
  let calls = 0;
  return {
    send: () => {
      const next = attempts[calls++];
      if (next === undefined) throw new Error(`unexpected attempt ${calls}`);
      return next;
    },
    calls: () => calls,
  };
};

// random() = 0.5: the waits are half the caps, 10, 20, 40… with a 20 ms base.
const fixed: RetryUpdateOptions = { baseDelayMs: 20, maxDelayMs: 1000, random: () => 0.5 };

describe('retryUpdate', () => {
  it('retry update - an accepted first attempt emits one accepted outcome', () => {
    runMarbles(({ cold, expectObservable }) => {
      const { send } = sequence([cold('--a|', { a: 'reply' })]);
      expectObservable(retryUpdate(send, fixed)).toBe('--(o|)', { o: { kind: 'accepted', value: 'reply', attempts: 1, earlierMayHaveApplied: false } });
    });
  });

  it('retry update - throttled attempts are retried with exponential backoff until accepted', () => {
    runMarbles(({ cold, expectObservable, expectSubscriptions }) => {
      const first = cold('-#', undefined, throttled);
      const second = cold('-#', undefined, throttled);
      const third = cold('-a|', { a: 'reply' });
      const { send } = sequence([first, second, third]);
      // fails at 1, waits 10 → second at 11, fails at 12, waits 20 → third at 32, accepted at 33
      expectObservable(retryUpdate(send, fixed)).toBe('33ms (o|)', { o: { kind: 'accepted', value: 'reply', attempts: 3, earlierMayHaveApplied: false } });
      expectSubscriptions(first.subscriptions).toBe('^!');
      expectSubscriptions(second.subscriptions).toBe('11ms ^!');
      expectSubscriptions(third.subscriptions).toBe('32ms ^!');
    });
  });

  it('retry update - timeouts and lost connections are retried and flag that an earlier attempt may have applied', () => {
    runMarbles(({ cold, expectObservable }) => {
      const { send } = sequence([cold('#', undefined, timedOut), cold('#', undefined, disconnected), cold('a|', { a: 'ok' })]);
      expectObservable(retryUpdate(send, fixed)).toBe('30ms (o|)', { o: { kind: 'accepted', value: 'ok', attempts: 3, earlierMayHaveApplied: true } });
    });
  });

  it('retry update - VersionMismatch is its own outcome, with the execution state, and is not retried', () => {
    runMarbles(({ cold, expectObservable }) => {
      const error = rejected('VersionMismatch', { status: 'IN_PROGRESS', versionNumber: 4 });
      const { send } = sequence([cold('--#', undefined, error)]);
      expectObservable(retryUpdate(send, fixed)).toBe('--(o|)', {
        o: { kind: 'version-mismatch', error, executionState: { status: 'IN_PROGRESS', versionNumber: 4 }, attempts: 1, earlierMayHaveApplied: false },
      });
    });
  });

  it('retry update - a definitive rejection after a timeout is reported as possibly our own earlier success', () => {
    runMarbles(({ cold, expectObservable }) => {
      const error = rejected('TerminalStateReached');
      const { send } = sequence([cold('#', undefined, timedOut), cold('-#', undefined, error)]);
      expectObservable(retryUpdate(send, fixed)).toBe('11ms (o|)', { o: { kind: 'rejected', error, attempts: 2, earlierMayHaveApplied: true } });
    });
  });

  it('retry update - errors no retry can fix error the Observable', () => {
    runMarbles(({ cold, expectObservable }) => {
      const decode = new DecodeError({ codec: 'UpdateJobExecutionResponse', issues: ['x'], payload: '{}' });
      expectObservable(retryUpdate(sequence([cold('-#', undefined, decode)]).send, fixed)).toBe('-#', undefined, decode);
      const invalid = new InvalidRequestError(['statusDetails: bad'], { operation: 'updateJobExecution' });
      expectObservable(retryUpdate(sequence([cold('#', undefined, invalid)]).send, fixed)).toBe('#', undefined, invalid);
    });
  });

  it('retry update - maxAttempts bounds the retries with a gave-up outcome', () => {
    let calls = (): number => 0;
    runMarbles(({ cold, expectObservable }) => {
      const attempts = sequence([cold('#', undefined, throttled), cold('#', undefined, throttled), cold('#', undefined, throttled)]);
      calls = attempts.calls;
      expectObservable(retryUpdate(attempts.send, { ...fixed, maxAttempts: 3 })).toBe('30ms (o|)', { o: { kind: 'gave-up', error: throttled, attempts: 3, earlierMayHaveApplied: false } });
    });
    expect(calls()).toBe(3);
  });

  it('retry update - an attempt that completes without a reply is retried', () => {
    runMarbles(({ cold, expectObservable }) => {
      const { send } = sequence([EMPTY, cold('a|', { a: 'ok' })]);
      expectObservable(retryUpdate(send, fixed)).toBe('10ms (o|)', { o: { kind: 'accepted', value: 'ok', attempts: 2, earlierMayHaveApplied: true } });
    });
  });

  it('retry update - unsubscribing during a wait sends nothing more', () => {
    let calls = (): number => 0;
    runMarbles(({ cold, expectObservable, expectSubscriptions }) => {
      const first = cold('#', undefined, throttled);
      const attempts = sequence([first, NEVER]);
      calls = attempts.calls;
      expectObservable(retryUpdate(attempts.send, fixed), '^ 5ms !').toBe('');
      expectSubscriptions(first.subscriptions).toBe('(^!)');
    });
    expect(calls()).toBe(1);
  });

  it('retry update - nothing is sent before subscription, and each subscription starts over', () => {
    let calls = 0;
    const outcome$ = retryUpdate(() => {
      calls += 1;
      return EMPTY;
    }, { maxAttempts: 1 });
    expect(calls).toBe(0);
    outcome$.subscribe();
    outcome$.subscribe();
    expect(calls).toBe(2);
  });

  it('retry update - waits use full jitter under a doubling cap, with the seeded random', () => {
    const retries: UpdateRetry[] = [];
    const random = seeded(42);
    runMarbles(({ cold, expectObservable }) => {
      const attempts = Array.from({ length: 12 }, () => cold('#', undefined, throttled));
      const { send } = sequence(attempts);
      const outcome$ = retryUpdate(send, { baseDelayMs: 100, maxDelayMs: 3000, random: random.next, maxAttempts: 12, onRetry: (retry) => retries.push(retry) });
      const total = (() => {
        const replay = seeded(42);
        let sum = 0;
        for (let n = 1; n < 12; n++) sum += backoffDelayMs(n, 100, 3000, replay.next);
        return sum;
      })();
      expectObservable(outcome$).toBe(`${total}ms (o|)`, { o: { kind: 'gave-up', error: throttled, attempts: 12, earlierMayHaveApplied: false } });
    });
    expect(retries.map(({ attempt }) => attempt)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    retries.forEach(({ attempt, delayMs }) => {
      const cap = Math.min(3000, 100 * 2 ** (attempt - 1));
      expect(delayMs).toBeGreaterThanOrEqual(0);
      expect(delayMs).toBeLessThan(cap);
    });
    expect(new Set(retries.map(({ delayMs }) => delayMs)).size).toBeGreaterThan(5); // jittered, not constant
  });

  it('retry update - backoff caps stay finite however many retries', () => {
    expect(backoffDelayMs(5000, 1000, 60_000, () => 0.999)).toBe(59_940);
    expect(backoffDelayMs(1, 1000, 60_000, () => 0)).toBe(0);
  });
});

describe('classifyUpdateError', () => {
  it.each([
    ['RequestThrottled', throttled, 'retry'],
    ['InternalError', rejected('InternalError'), 'retry'],
    ['RequestTimeoutError', timedOut, 'retry'],
    ['TransportError (network)', disconnected, 'retry'],
    ['TransportError 503', new TransportError('x', { httpStatus: 503 }), 'retry'],
    ['TransportError 429', new TransportError('x', { httpStatus: 429 }), 'retry'],
    ['TransportError 403', new TransportError('x', { httpStatus: 403 }), 'retry'],
    ['TransportError 400', new TransportError('x', { httpStatus: 400 }), 'rejected'],
    ['VersionMismatch', rejected('VersionMismatch'), 'version-mismatch'],
    ['InvalidStateTransition', rejected('InvalidStateTransition'), 'rejected'],
    ['TerminalStateReached', rejected('TerminalStateReached'), 'rejected'],
    ['ResourceNotFound', rejected('ResourceNotFound'), 'rejected'],
    ['an unknown code', rejected('SomethingNew'), 'rejected'],
    ['DecodeError', new DecodeError({ codec: 'c', issues: [], payload: '' }), 'fatal'],
    ['InvalidRequestError', new InvalidRequestError([]), 'fatal'],
    ['a plain Error', new Error('bug'), 'fatal'],
    ['a string', 'oops', 'fatal'],
  ])('retry update - classifies %s', (_name, error, kind) => {
    expect(classifyUpdateError(error)).toBe(kind);
  });
});
