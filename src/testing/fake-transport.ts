import { Observable, Subject, filter, map } from '../rx';
import { parseJson } from '../codecs/decode';
import type { EventName } from '../errors';
import type { Outcome } from '../transport/topics';
import type { Call, DocumentEncoding, EventMessage, JobsTransport, JsonObject, Reply } from '../transport/transport';

/** An in-memory {@link JobsTransport}: records calls and lets the test answer them. */
export interface FakeJobsTransport extends JobsTransport {
  /** Every call sent, in order. */
  readonly calls: readonly Call[];
  /** Answers `call` (by its clientToken) with `body`; strings are delivered as they are (e.g. bad JSON). */
  readonly reply: (call: Call, outcome: Outcome, body: JsonObject | string) => void;
  /** Emits a notification on `event`. */
  readonly emit: (event: EventName, body: JsonObject | string) => void;
  /** Number of active subscriptions to each event stream. */
  readonly eventSubscribers: (event: EventName) => number;
}

/** Options of {@link createFakeJobsTransport}. */
export interface FakeJobsTransportOptions {
  /** Default `object` (as MQTT); `json-string` behaves like HTTPS. */
  readonly documentEncoding?: DocumentEncoding;
  /** Answers each call as it is sent; return undefined to answer later with `reply`. */
  readonly respond?: (call: Call) => { outcome: Outcome; body: JsonObject | string } | undefined;
}

/** Creates a {@link FakeJobsTransport}. */
export const createFakeJobsTransport = (options: FakeJobsTransportOptions = {}): FakeJobsTransport => {
  const calls: Call[] = [];
  const replies = new Subject<Reply>();
  const notifications = new Subject<{ event: EventName; message: EventMessage }>();
  const subscribers = new Map<EventName, number>();
  const toText = (body: JsonObject | string): string => (typeof body === 'string' ? body : JSON.stringify(body));
  const reply = (call: Call, outcome: Outcome, body: JsonObject | string): void => {
    const payload = toText(body);
    replies.next({ outcome, payload, body: parseJson(payload), clientToken: call.clientToken });
  };
  return {
    documentEncoding: options.documentEncoding ?? 'object',
    calls,
    reply,
    emit: (event, body) => {
      const payload = toText(body);
      notifications.next({ event, message: { payload, body: parseJson(payload) } });
    },
    eventSubscribers: (event) => subscribers.get(event) ?? 0,
    request: (call) =>
      new Observable<Reply>((subscriber) => {
        const inner = replies.subscribe(subscriber);
        calls.push(call);
        const answer = options.respond?.(call);
        if (answer !== undefined) reply(call, answer.outcome, answer.body);
        return inner;
      }),
    events: (event) =>
      new Observable<EventMessage>((subscriber) => {
        subscribers.set(event, (subscribers.get(event) ?? 0) + 1);
        const inner = notifications
          .pipe(
            filter((n) => n.event === event),
            map((n) => n.message),
          )
          .subscribe(subscriber);
        return () => {
          inner.unsubscribe();
          subscribers.set(event, (subscribers.get(event) ?? 1) - 1);
        };
      }),
  };
};
