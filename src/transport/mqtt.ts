import type { MqttClient } from 'mqtt';
import { parseJson, show, type Parsed } from '../codecs/decode';
import type { ThingName } from '../codecs/primitives';
import { InvalidRequestError, TransportError, type EventName, type OperationName } from '../errors';
import { Observable, Subject, catchError, mergeMap, race, share, throwError, timer, type Subscriber } from '../rx';
import { just } from '../util/just';
import { fromMqttClient } from './mqtt-js-port';
import { isMqttPort, type ConnectionState, type MqttMessage, type MqttPort, type SubscriptionEvent } from './mqtt-port';
import { isTimerMs, maxTimerMs } from '../util/timer-limit';
import { lingerScheduler } from './linger-scheduler';
import { shareFilter, type SharedFilter } from './shared-filter';
import { eventTopic, replyFilter, replyOutcome, requestTopic, type Outcome } from './topics';
import type { Call, EventMessage, JobsTransport, Reply } from './transport';

/** Options of {@link mqttTransport}. */
export interface MqttTransportOptions {
  /**
   * How long a reply or event subscription stays after its last user leaves, so bursts of requests reuse
   * one SUBSCRIBE: an integer 0–2 147 483 647 ms (the longest Node timer), default 30 000. The linger's
   * timer never keeps Node alive, and a wall clock set back does not lengthen it.
   */
  readonly lingerMs?: number;
}

/** The shared reply subscription of one operation and thing; replies routed to waiting requests by token. */
interface Family {
  readonly replies: SharedFilter;
  readonly waiting: Map<string, Subscriber<Reply>>;
}

const decoder = new TextDecoder();

// A reply that is not JSON can still name its request; reading the token lets it fail that request
// with a DecodeError at once instead of by timeout.
const scrapedToken = /"clientToken"\s*:\s*"([^"\\]{1,64})"/;

const clientTokenOf = (text: string, body: Parsed): string | undefined => {
  if (body.ok && typeof body.value === 'object' && body.value !== null && 'clientToken' in body.value) {
    const token: unknown = body.value.clientToken;
    if (typeof token === 'string') return token;
  }
  return scrapedToken.exec(text)?.[1];
};

const toReply = (message: MqttMessage, outcomeOf: (topic: string) => Outcome | undefined): Reply | undefined => {
  // Replies for another thing or operation are not ours, whatever the broker delivered.
  const outcome = outcomeOf(message.topic);
  if (outcome === undefined) return undefined;
  const payload = decoder.decode(message.payload);
  const body = parseJson(payload);
  const clientToken = clientTokenOf(payload, body);
  const { topic } = message;
  return clientToken === undefined ? { outcome, payload, body, topic } : { outcome, payload, body, topic, clientToken };
};

/**
 * A port's TransportError in this copy's class. A port can be shared with another copy of this package (its
 * CommonJS and ESM builds loaded in one process, see session-port.ts), whose errors are of that copy's classes:
 * `instanceof TransportError` would fail for them here, and the runner would take a transient failure for a
 * fatal one. The original is kept as `cause`.
 */
const ownError = (error: unknown): unknown => {
  if (error instanceof TransportError || !(error instanceof Error) || error.name !== 'TransportError') return error;
  const reasonCode: unknown = 'reasonCode' in error ? error.reasonCode : undefined;
  return new TransportError(error.message, { cause: error, ...(typeof reasonCode === 'number' ? { reasonCode } : {}) });
};

// What to do with a request sent before the connection dropped, when the new session may have lost its reply:
// on a new session mqtt.js sends the QoS 1 PUBLISHes it kept before it subscribes again, so the reply can reach
// the broker before the subscription, whether or not the PUBLISH had been acknowledged. Reads are sent again
// once the filter is granted; an update with `expectedVersion` is sent again with the same clientToken (the
// version makes it safe); other writes fail, since whether they were applied is unknown. A resumed session
// loses nothing: it kept the subscription, and mqtt.js re-sent what was not acknowledged.
const isRead = (call: Call): boolean => call.operation === 'getPendingJobExecutions' || call.operation === 'describeJobExecution';
const resendable = (call: Call): boolean => isRead(call) || (call.operation === 'updateJobExecution' && call.payload.expectedVersion !== undefined);

/**
 * The Jobs API over the MQTT reserved topics, on an mqtt.js client (or any {@link MqttPort}).
 * A constant number of subscriptions per thing however many jobs: one wildcard filter per operation and
 * one per event, each shared by every request, released `lingerMs` after its last user (at once when the
 * client ends). A request is published only after its filter's SUBACK; replies reach their request by
 * clientToken. Throws InvalidRequestError for a bad `lingerMs`. Make one per client and keep it: each keeps a
 * listener on the client's connection for as long as the client lives.
 */
export const mqttTransport = (client: MqttClient | MqttPort, options: MqttTransportOptions = {}): JobsTransport => {
  const port = isMqttPort(client) ? client : fromMqttClient(client);
  const lingerMs = options.lingerMs ?? 30_000;
  if (!isTimerMs(lingerMs, 0)) throw new InvalidRequestError([`lingerMs: expected an integer 0-${maxTimerMs}, got ${show(lingerMs)}`]);
  const families = new Map<ThingName, Partial<Record<OperationName, Family>>>();
  const events = new Map<string, Observable<EventMessage>>();
  // Requests in flight, told of connection changes by the transport's one listener on the client; each
  // with how to fail it.
  const inFlight = new Map<(state: ConnectionState) => void, (error: unknown) => void>();
  // Linger after the last user leaves, but not past the client's end: nobody can use the subscription then.
  // (The linger's timer never keeps Node alive: ./linger-scheduler.ts.)
  // Watched from the start, so an end that came before the last user left still counts; a client that
  // connects again after its end (mqtt.js `reconnect()`) lingers again.
  let ended = false;
  const end$ = new Subject<void>();
  port.connection$?.subscribe({
    next: (state) => {
      if (state === 'end' && !ended) {
        ended = true;
        end$.next();
        for (const byOperation of families.values()) for (const family of Object.values(byOperation)) family.replies.end();
      } else if (state === 'up') {
        ended = false;
      }
      // A request that an earlier one's callback cancelled is not told (nor sent again).
      for (const watcher of [...inFlight.keys()]) if (inFlight.has(watcher)) watcher(state);
    },
    // A port whose connection$ fails can no longer say what became of a request in flight.
    error: (error: unknown) => {
      for (const fail of [...inFlight.values()]) fail(ownError(error));
    },
  });
  const linger = { resetOnRefCountZero: () => (ended ? just(undefined) : race(timer(lingerMs, lingerScheduler), end$)) };

  const family = (operation: OperationName, thingName: ThingName): Family => {
    const byOperation = families.get(thingName) ?? {};
    const existing = byOperation[operation];
    if (existing) return existing;
    const waiting = new Map<string, Subscriber<Reply>>();
    const outcomeOf = replyOutcome(operation, thingName);
    const replies = shareFilter(port, replyFilter(operation, thingName), {
      lingerMs,
      ended: () => ended,
      onMessage: (message) => {
        const reply = toReply(message, outcomeOf);
        if (reply?.clientToken !== undefined) waiting.get(reply.clientToken)?.next(reply);
      },
    });
    const created = { replies, waiting };
    byOperation[operation] = created;
    families.set(thingName, byOperation);
    return created;
  };

  // One Observable per request, without operators: it runs on every request, sequential round trips wait for
  // it, and composed operators cost more than the publish itself (docs/benchmarks.md).
  const request = (call: Call): Observable<Reply> =>
    new Observable<Reply>((subscriber) => {
      const { replies, waiting } = family(call.operation, call.thingName);
      const topic = requestTopic(call.operation, call.thingName, call.jobId);
      const payload = JSON.stringify(call.payload);
      const fail = (error: unknown): void => {
        subscriber.error(error);
      };
      // Published at least once; the filter is granted on the current session; sent before the filter lapsed,
      // so the session that grants it again decides; to be published again.
      let sent = false;
      let ready = false;
      let suspect = false;
      let resend = false;
      const published = {
        error: (error: unknown) => {
          fail(ownError(error));
        },
      };
      const publish = (): void => {
        port.publish(topic, payload).subscribe(published);
      };
      const indeterminate = (cause?: unknown): TransportError =>
        new TransportError(`connection lost while ${call.operation} was in flight; whether it was applied is unknown`, {
          operation: call.operation,
          ...(cause === undefined ? {} : { cause }),
        });
      const lost = (): void => {
        if (resendable(call)) resend = true;
        else fail(indeterminate());
      };
      const publishAgain = (): void => {
        if (!resend || !ready) return;
        resend = false;
        publish();
      };
      // A port that follows the session has made the filter lapse before `down`, and its next grant says
      // whether the session was resumed. With one that does not, the filter stays granted: `down` counts
      // the reply as lost, and `up` is the time to send again.
      const onConnection = (state: ConnectionState): void => {
        if (state === 'end') fail(new TransportError(`the MQTT client ended while ${call.operation} was in flight`, { operation: call.operation }));
        else if (state === 'up') publishAgain();
        else if (sent && ready) lost();
      };
      waiting.set(call.clientToken, subscriber);
      inFlight.set(onConnection, fail);
      // Using the family keeps its subscription up for as long as this request waits; publish after the SUBACK.
      const release = replies.use({
        granted: (resumed) => {
          ready = true;
          if (!sent) {
            sent = true;
            publish();
            return;
          }
          if (suspect && !resumed) lost();
          suspect = false;
          publishAgain();
        },
        lapsed: () => {
          ready = false;
          if (sent) suspect = true;
        },
        // A write already sent may have been applied, and with the filter refused it cannot go again (not even
        // a versioned update): not the plain refusal that says nothing was sent.
        failed: (error) => {
          if (sent && !isRead(call)) fail(indeterminate(error));
          else fail(ownError(error));
        },
        ended: () => {
          if (!sent) fail(new TransportError(`the subscription for ${call.operation} ended before the broker granted it`, { operation: call.operation }));
        },
      });
      return () => {
        waiting.delete(call.clientToken);
        inFlight.delete(onConnection);
        release();
      };
    });

  const toEvent = (event: SubscriptionEvent): EventMessage[] => {
    if (event.kind !== 'message') return [];
    const payload = decoder.decode(event.message.payload);
    return [{ payload, body: parseJson(payload), topic: event.message.topic }];
  };

  return {
    documentEncoding: 'object',
    request,
    events: (event: EventName, thingName: ThingName) => {
      const topic = eventTopic(event, thingName);
      const existing = events.get(topic);
      if (existing) return existing;
      const event$ = port.subscribe(topic).pipe(
        mergeMap(toEvent),
        catchError((error: unknown) => throwError(() => ownError(error))),
        share(linger),
      );
      events.set(topic, event$);
      return event$;
    },
  };
};
