import * as t from 'io-ts';
import {
  EMPTY,
  type Observable,
  type SchedulerLike,
  catchError,
  defaultIfEmpty,
  defer,
  expand,
  map,
  mergeMap,
  take,
  throwError,
  timeout,
  timer,
} from '../rx-https';
import { just } from '../util/just';
import { decodeParsed, parseJson, type Parsed } from '../codecs/decode';
import type { ThingName } from '../codecs/primitives';
import { GetPendingJobExecutionsResponse, describeJobExecutionResponse } from '../codecs/responses';
import { DecodeError, TransportError, type EventName } from '../errors';
import type { Call, EventMessage, Reply } from './transport';

/**
 * The two notification streams over HTTPS, where the service has none: GetPendingJobExecutions (for
 * `jobExecutionsChanged`) or DescribeJobExecution(`$next`) (for `nextJobExecutionChanged`) polled on an
 * RxJS timer, emitting the MQTT event shape only when what MQTT would notify about changed
 * (../shared/spec/jobs-api.md §2.4, ../shared/design/ARCHITECTURE.md §4).
 */

/** Options of {@link pollEvent}. */
export interface PollOptions {
  /** Sends one request (the HTTPS transport's own `request`). */
  readonly request: (call: Call) => Observable<Reply>;
  readonly thingName: ThingName;
  /** Pause between the end of one poll and the next. */
  readonly intervalMs: number;
  /** Largest pause while throttled (the pause doubles on each ThrottlingException). */
  readonly maxIntervalMs: number;
  /** Failed polls in a row (other than throttling) after which the stream errors. */
  readonly failureLimit: number;
  /** Deadline of one poll; a poll that misses it counts as failed. */
  readonly timeoutMs: number;
  readonly scheduler: SchedulerLike;
  /** Mints the clientToken of each poll. */
  readonly newToken: () => string;
}

/** What one poll saw: a key that changes exactly when MQTT would notify, and the event to emit then. */
interface Snapshot {
  readonly key: string;
  readonly event: (timestamp: Date) => unknown;
}

interface EventPoll {
  readonly call: (thingName: ThingName, clientToken: string) => Call;
  readonly read: (reply: Reply) => Snapshot;
}

// Documents pass through as the service sent them (a JSON string); the client's document codec parses them.
const describeResponse = describeJobExecutionResponse(t.unknown);

const idOf = (execution: { readonly jobId: string; readonly executionNumber?: number }): string => `${execution.jobId}#${execution.executionNumber ?? ''}`;

const source = (event: EventName, reply: Reply) => ({ operation: event, payload: reply.payload });

// The event carries the reply's own values, once its decode has checked them: decoding to `Date` and encoding
// back would round the fractional seconds the HTTPS API may send (../shared/spec/jobs-api.md §1).
const rawField = (body: Parsed, key: string): unknown => {
  if (!body.ok || typeof body.value !== 'object' || body.value === null || !(key in body.value)) return undefined;
  const value: unknown = Reflect.get(body.value, key);
  return value;
};

// Whole seconds, as MQTT notifications carry their timestamp.
const epochSeconds = (timestamp: Date): number => Math.floor(timestamp.getTime() / 1000);

const polls: { readonly [K in EventName]: EventPoll } = {
  // `notify` fires when the set of pending executions changes, not on QUEUED -> IN_PROGRESS (§2.4).
  jobExecutionsChanged: {
    call: (thingName, clientToken) => ({ operation: 'getPendingJobExecutions', thingName, clientToken, payload: { clientToken } }),
    read: (reply) => {
      const { inProgressJobs, queuedJobs } = decodeParsed(GetPendingJobExecutionsResponse, reply.body, source('jobExecutionsChanged', reply));
      const jobs = {
        ...(inProgressJobs.length > 0 ? { IN_PROGRESS: rawField(reply.body, 'inProgressJobs') } : {}),
        ...(queuedJobs.length > 0 ? { QUEUED: rawField(reply.body, 'queuedJobs') } : {}),
      };
      return {
        key: [...inProgressJobs, ...queuedJobs].map(idOf).sort().join(' '),
        event: (timestamp) => ({ timestamp: epochSeconds(timestamp), jobs }),
      };
    },
  },
  // `notify-next` fires when the execution Describe($next) returns changes, not when its details do (§2.4).
  nextJobExecutionChanged: {
    call: (thingName, clientToken) => ({
      operation: 'describeJobExecution',
      thingName,
      jobId: '$next',
      clientToken,
      payload: { includeJobDocument: true, clientToken },
    }),
    read: (reply) => {
      const { execution } = decodeParsed(describeResponse, reply.body, source('nextJobExecutionChanged', reply));
      return {
        key: execution === undefined ? '' : idOf(execution),
        event: (timestamp) => ({ timestamp: epochSeconds(timestamp), ...(execution === undefined ? {} : { execution: rawField(reply.body, 'execution') }) }),
      };
    },
  },
};

type Tick =
  | { readonly kind: 'seen'; readonly snapshot: Snapshot }
  | { readonly kind: 'undecodable'; readonly error: DecodeError }
  | { readonly kind: 'throttled' }
  | { readonly kind: 'failed'; readonly error: Error };

const classify = (event: EventName, reply: Reply): Tick => {
  if (reply.outcome === 'accepted') return { kind: 'seen', snapshot: polls[event].read(reply) };
  if (reply.exceptionName === 'ThrottlingException') return { kind: 'throttled' };
  const status = reply.httpStatus;
  return {
    kind: 'failed',
    error: new TransportError(`poll rejected: HTTP ${status ?? '?'} ${reply.exceptionName ?? ''}`.trim(), {
      operation: event,
      ...(status === undefined ? {} : { httpStatus: status }),
    }),
  };
};

/**
 * Polls for `event` while subscribed: the first poll at once, then `intervalMs` after each poll ends. The
 * first successful poll is the baseline (MQTT does not notify the state as it is when you subscribe); after
 * it, an event is emitted each time the key changes. Error policy: ThrottlingException (or a bare 429)
 * doubles the pause up to `maxIntervalMs`, reset by the next success; any other failure (transport error,
 * rejection, timeout) is skipped and retried at the next tick, and `failureLimit` of them in a row error
 * the stream with TransportError (its cause the last failure). A reply that fails its codec is emitted at
 * once as a message carrying its DecodeError (`undecodable`), which the event stream reports as it does a
 * bad MQTT notification; polling goes on.
 */
export const pollEvent = (event: EventName, options: PollOptions): Observable<EventMessage> =>
  defer(() => {
    const { scheduler, intervalMs, maxIntervalMs, failureLimit, timeoutMs } = options;
    const poll = polls[event];
    let pause = intervalMs;
    let failures = 0;
    let last: string | undefined;
    const once$ = defer(() => options.request(poll.call(options.thingName, options.newToken()))).pipe(
      take(1),
      timeout({ first: timeoutMs, scheduler, with: () => throwError(() => new TransportError(`poll got no reply within ${timeoutMs} ms`, { operation: event })) }),
      map((reply): Tick => classify(event, reply)),
      defaultIfEmpty<Tick, Tick>({ kind: 'failed', error: new TransportError('poll ended without a reply', { operation: event }) }),
      catchError((error: unknown): Observable<Tick> => {
        if (error instanceof DecodeError) return just({ kind: 'undecodable', error });
        if (error instanceof TransportError && error.httpStatus === 429) return just({ kind: 'throttled' });
        return just({ kind: 'failed', error: error instanceof Error ? error : new TransportError(String(error), { operation: event }) });
      }),
    );
    const pauseAfter = (tick: Tick): number => {
      // A reply that fails its codec is not a failure of the transport: it is reported, and polling goes on.
      if (tick.kind === 'seen' || tick.kind === 'undecodable') {
        pause = intervalMs;
        failures = 0;
      } else if (tick.kind === 'throttled') {
        pause = Math.max(intervalMs, Math.min(pause * 2, maxIntervalMs));
      } else {
        failures += 1;
        if (failures >= failureLimit) {
          const httpStatus = tick.error instanceof TransportError ? tick.error.httpStatus : undefined;
          throw new TransportError(`${event}: ${failures} polls in a row failed; the last: ${tick.error.message}`, {
            operation: event,
            cause: tick.error,
            ...(httpStatus === undefined ? {} : { httpStatus }),
          });
        }
      }
      return pause;
    };
    return once$.pipe(
      expand((tick) => timer(pauseAfter(tick), scheduler).pipe(mergeMap(() => once$))),
      mergeMap((tick): Observable<EventMessage> => {
        if (tick.kind === 'undecodable') return just({ payload: tick.error.payload, body: parseJson(tick.error.payload), undecodable: tick.error });
        if (tick.kind !== 'seen') return EMPTY;
        const { key } = tick.snapshot;
        const changed = last !== undefined && key !== last;
        last = key;
        if (!changed) return EMPTY;
        const payload = JSON.stringify(tick.snapshot.event(new Date(scheduler.now())));
        return just({ payload, body: parseJson(payload) });
      }),
    );
  });
