import { NEVER, type Observable, asyncScheduler, map, of, throwError } from 'rxjs';
import { parseJson } from '../../src/codecs/decode';
import { DecodeError, TransportError, type EventName } from '../../src/errors';
import { wireSummary } from '../../src/testing';
import { pollEvent } from '../../src/transport/https-poll';
import type { Call, JsonObject, Reply } from '../../src/transport/transport';
import { runMarbles } from '../helpers/marbles';
import { thing } from '../helpers/names';

type Step = JsonObject | 'throttled' | '429' | 'unavailable' | 'socket' | 'hang';

/** A scripted transport `request`: the n-th poll gets the n-th step (the last one repeats), at virtual time. */
const scripted = (steps: readonly Step[]) => {
  const calls: { at: number; call: Call }[] = [];
  const request = (call: Call): Observable<Reply> => {
    const step = steps[Math.min(calls.length, steps.length - 1)] ?? 'hang';
    calls.push({ at: asyncScheduler.now(), call });
    const base = { clientToken: call.clientToken };
    if (step === 'hang') return NEVER;
    if (step === 'socket') return throwError(() => new TransportError('socket hang up'));
    if (step === '429') return throwError(() => new TransportError('HTTP 429', { httpStatus: 429 }));
    if (step === 'throttled' || step === 'unavailable') {
      const [exceptionName, httpStatus] = step === 'throttled' ? ['ThrottlingException', 429] : ['ServiceUnavailableException', 503];
      const payload = JSON.stringify({ code: 'x', message: 'm' });
      return of({ outcome: 'rejected', payload, body: parseJson(payload), exceptionName, httpStatus, ...base });
    }
    const payload = JSON.stringify(step);
    return of({ outcome: 'accepted', payload, body: parseJson(payload), httpStatus: 200, ...base });
  };
  return { calls, request };
};

const options = (request: (call: Call) => Observable<Reply>, overrides: { failureLimit?: number; timeoutMs?: number } = {}) => ({
  request,
  thingName: thing('thing-A'),
  intervalMs: 10,
  maxIntervalMs: 40,
  failureLimit: overrides.failureLimit ?? 3,
  timeoutMs: overrides.timeoutMs ?? 5,
  scheduler: asyncScheduler,
  newToken: () => 'tok',
});

const bodies = (event: EventName, request: (call: Call) => Observable<Reply>, overrides: { failureLimit?: number; timeoutMs?: number } = {}) =>
  pollEvent(event, options(request, overrides)).pipe(map((message) => (message.body.ok ? message.body.value : message.payload)));

const pending = (inProgress: string[], queued: string[]): JsonObject => ({
  inProgressJobs: inProgress.map((jobId) => wireSummary({ jobId })),
  queuedJobs: queued.map((jobId) => wireSummary({ jobId })),
});
const notify = (inProgress: string[], queued: string[]) => ({
  timestamp: 0,
  jobs: {
    ...(inProgress.length > 0 ? { IN_PROGRESS: inProgress.map((jobId) => wireSummary({ jobId })) } : {}),
    ...(queued.length > 0 ? { QUEUED: queued.map((jobId) => wireSummary({ jobId })) } : {}),
  },
});
const execution = (jobId: string, extra: JsonObject = {}): JsonObject => ({
  jobId, status: 'QUEUED', queuedAt: 1, lastUpdatedAt: 1, versionNumber: 1, executionNumber: 1, jobDocument: '{"op":"x"}', ...extra,
});

describe('pollEvent', () => {
  it('poll - jobExecutionsChanged: the first poll is the baseline; then only changes of the pending set emit', () => {
    runMarbles(({ expectObservable }) => {
      const { request } = scripted([
        pending([], ['job-1']),
        pending([], ['job-1']),
        pending(['job-1'], []), // QUEUED -> IN_PROGRESS: MQTT sends no notify
        pending(['job-1'], ['job-2']),
        pending([], ['job-2']),
        pending([], []),
      ]);
      expectObservable(bodies('jobExecutionsChanged', request), '^ 59ms !').toBe('30ms a 9ms b 9ms c', {
        a: notify(['job-1'], ['job-2']),
        b: notify([], ['job-2']),
        c: { timestamp: 0, jobs: {} },
      });
    });
  });

  it('poll - nextJobExecutionChanged: emits when the next execution changes, not when its details do; the document stays a string', () => {
    runMarbles(({ expectObservable }) => {
      const { request } = scripted([{}, { execution: execution('job-1') }, { execution: execution('job-1', { status: 'IN_PROGRESS', versionNumber: 2 }) }, {}]);
      expectObservable(bodies('nextJobExecutionChanged', request), '^ 39ms !').toBe('10ms a 19ms b', {
        a: { timestamp: 0, execution: execution('job-1') },
        b: { timestamp: 0 },
      });
    });
  });

  it('poll - the polls are Describe($next) with the document, and GetPending', () => {
    runMarbles(({ schedule }) => {
      const next = scripted([{}]);
      const all = scripted([pending([], [])]);
      const subs = [pollEvent('nextJobExecutionChanged', options(next.request)).subscribe(), pollEvent('jobExecutionsChanged', options(all.request)).subscribe()];
      schedule(() => {
        subs.forEach((s) => s.unsubscribe());
        expect(next.calls[0]?.call).toEqual({ operation: 'describeJobExecution', thingName: 'thing-A', jobId: '$next', clientToken: 'tok', payload: { includeJobDocument: true, clientToken: 'tok' } });
        expect(all.calls[0]?.call).toEqual({ operation: 'getPendingJobExecutions', thingName: 'thing-A', clientToken: 'tok', payload: { clientToken: 'tok' } });
      }, 1);
    });
  });

  it('poll - ThrottlingException (or a bare 429) doubles the pause up to the cap; a success resets it', () => {
    runMarbles(({ schedule }) => {
      const { request, calls } = scripted([pending([], []), 'throttled', '429', 'throttled', 'throttled', pending([], []), pending([], [])]);
      const sub = pollEvent('jobExecutionsChanged', options(request, { failureLimit: 2 })).subscribe({ error: () => undefined });
      schedule(() => {
        sub.unsubscribe();
        expect(calls.map((c) => c.at)).toEqual([0, 10, 30, 70, 110, 150, 160]);
      }, 165);
    });
  });

  it('poll - other failures are retried at the next tick; failureLimit in a row error the stream with TransportError', () => {
    runMarbles(({ schedule }) => {
      const { request, calls } = scripted([pending([], []), 'socket', 'unavailable', pending([], []), 'socket', 'unavailable', 'hang']);
      const errors: unknown[] = [];
      pollEvent('jobExecutionsChanged', options(request)).subscribe({ error: (e: unknown) => errors.push(e) });
      schedule(() => {
        // 0 ok, 10 and 20 fail, 30 ok (resets), 40 and 50 fail, 60 hangs: its timeout (5 ms) is the third failure in a row.
        expect(calls.map((c) => c.at)).toEqual([0, 10, 20, 30, 40, 50, 60]);
        expect(errors).toHaveLength(1);
        const error = errors[0];
        expect(error).toBeInstanceOf(TransportError);
        expect(error).toMatchObject({ operation: 'jobExecutionsChanged', message: expect.stringMatching(/^jobExecutionsChanged: 3 polls in a row failed; the last: poll got no reply within 5 ms$/) });
      }, 66);
    });
  });

  it('poll - the last failure gives the error its httpStatus', () => {
    runMarbles(({ schedule }) => {
      const { request } = scripted(['unavailable']);
      const errors: unknown[] = [];
      pollEvent('nextJobExecutionChanged', options(request, { failureLimit: 2 })).subscribe({ error: (e: unknown) => errors.push(e) });
      schedule(() => {
        expect(errors[0]).toMatchObject({ name: 'TransportError', httpStatus: 503, operation: 'nextJobExecutionChanged' });
        expect(errors[0]).toMatchObject({ cause: expect.objectContaining({ message: 'poll rejected: HTTP 503 ServiceUnavailableException' }) });
      }, 10);
    });
  });

  it('poll - a reply that fails its codec is emitted at once carrying its DecodeError, and polling goes on', () => {
    runMarbles(({ expectObservable }) => {
      const { request } = scripted([{ queuedJobs: 'nope' }, pending([], []), pending([], ['job-1'])]);
      const decodeError = new DecodeError({
        operation: 'jobExecutionsChanged',
        codec: 'GetPendingJobExecutionsResponse',
        issues: ['queuedJobs: expected Array<JobExecutionSummary>, got "nope"'],
        payload: '{"queuedJobs":"nope"}',
      });
      const seen = pollEvent('jobExecutionsChanged', options(request)).pipe(
        map((message) => message.undecodable ?? (message.body.ok ? message.body.value : message.payload)),
      );
      // The bad reply is not the baseline: the next poll (10 ms) is, and the one after (20 ms) a change.
      expectObservable(seen, '^ 29ms !').toBe('u 19ms a', { u: decodeError, a: notify([], ['job-1']) });
    });
  });

  it('poll - fractional seconds in an HTTPS reply reach the event as the service sent them', () => {
    runMarbles(({ expectObservable }) => {
      const fractional = { ...wireSummary({ jobId: 'job-1' }), queuedAt: 1567701902.444, lastUpdatedAt: 1567701875.743 };
      const { request } = scripted([{ inProgressJobs: [], queuedJobs: [] }, { inProgressJobs: [], queuedJobs: [fractional] }]);
      const next = scripted([{}, { execution: execution('job-1', { queuedAt: 1567701902.444 }) }]);
      expectObservable(bodies('jobExecutionsChanged', request), '^ 19ms !').toBe('10ms a', { a: { timestamp: 0, jobs: { QUEUED: [fractional] } } });
      expectObservable(bodies('nextJobExecutionChanged', next.request), '^ 19ms !').toBe('10ms a', {
        a: { timestamp: 0, execution: execution('job-1', { queuedAt: 1567701902.444 }) },
      });
    });
  });

  it('poll - unsubscribing stops polling', () => {
    runMarbles(({ schedule }) => {
      const { request, calls } = scripted([pending([], [])]);
      const sub = pollEvent('jobExecutionsChanged', options(request)).subscribe();
      schedule(() => sub.unsubscribe(), 25);
      schedule(() => expect(calls.map((c) => c.at)).toEqual([0, 10, 20]), 100);
    });
  });
});
