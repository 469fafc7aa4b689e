import type { MqttClient } from 'mqtt';
import { parseJson, type Parsed } from '../codecs/decode';
import type { ThingName } from '../codecs/primitives';
import { TransportError, type EventName, type OperationName } from '../errors';
import {
  EMPTY,
  EmptyError,
  Observable,
  ReplaySubject,
  filter,
  first,
  map,
  mergeMap,
  race,
  share,
  take,
  timer,
  type Subscription,
} from '../rx';
import { fromMqttClient, isMqttPort, type MqttMessage, type MqttPort, type SubscriptionEvent } from './mqtt-port';
import { eventTopic, parseJobsTopic, replyFilter, requestTopic } from './topics';
import type { Call, EventMessage, JobsTransport, Reply } from './transport';

/** Options of {@link mqttTransport}. */
export interface MqttTransportOptions {
  /**
   * How long a reply or event subscription stays after its last user leaves, so bursts of requests reuse
   * one SUBSCRIBE. Default 30 000 ms.
   */
  readonly lingerMs?: number;
}

/** One shared reply subscription: ready once its SUBACK came; replies routed to waiting requests by token. */
interface Family {
  readonly ready$: Observable<void>;
  readonly waiting: Map<string, (reply: Reply) => void>;
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

const toReply = (message: MqttMessage, operation: OperationName, thingName: ThingName): Reply | undefined => {
  const topic = parseJobsTopic(message.topic);
  // Replies for another thing or operation are not ours, whatever the broker delivered.
  if (topic?.kind !== 'reply' || topic.thingName !== thingName || topic.operation !== operation) return undefined;
  const payload = decoder.decode(message.payload);
  const body = parseJson(payload);
  const clientToken = clientTokenOf(payload, body);
  return { outcome: topic.outcome, payload, body, topic: message.topic, ...(clientToken === undefined ? {} : { clientToken }) };
};

// What to do with a request in flight when the session drops. Before its PUBACK, nothing: mqtt.js keeps the
// QoS 1 PUBLISH in its outgoing store and sends it again on reconnect. After its PUBACK (the reply may be
// lost): reads are sent again after the reconnect; an update with `expectedVersion` is sent again with the
// same clientToken (the version makes it safe); other writes fail, since whether they were applied is unknown.
const resendable = (call: Call): boolean =>
  call.operation === 'getPendingJobExecutions' ||
  call.operation === 'describeJobExecution' ||
  (call.operation === 'updateJobExecution' && call.payload.expectedVersion !== undefined);

/**
 * The Jobs API over the MQTT reserved topics, on an mqtt.js client (or any {@link MqttPort}).
 * A constant number of subscriptions per thing however many jobs: one wildcard filter per operation and
 * one per event, each shared by every request, released `lingerMs` after its last user (at once when the
 * client ends). A request is published only after its filter's SUBACK; replies reach their request by
 * clientToken.
 */
export const mqttTransport = (client: MqttClient | MqttPort, options: MqttTransportOptions = {}): JobsTransport => {
  const port = isMqttPort(client) ? client : fromMqttClient(client);
  const lingerMs = options.lingerMs ?? 30_000;
  const families = new Map<string, Family>();
  const events = new Map<string, Observable<EventMessage>>();
  // One listener on the client for every request, however many are in flight.
  const connection$ = (port.connection$ ?? EMPTY).pipe(share());
  // Linger after the last user leaves, but not past the client's end: a pending timer would keep Node alive.
  // Watched from the start, so an end that came before the last user left still counts.
  const ended$ = new ReplaySubject<void>(1);
  connection$
    .pipe(
      filter((state) => state === 'end'),
      take(1),
    )
    .subscribe(() => {
      ended$.next();
    });
  const linger = { resetOnRefCountZero: () => race(timer(lingerMs), ended$) };

  const family = (operation: OperationName, thingName: ThingName): Family => {
    const filterText = replyFilter(operation, thingName);
    const existing = families.get(filterText);
    if (existing) return existing;
    const waiting = new Map<string, (reply: Reply) => void>();
    const route = (event: SubscriptionEvent): boolean => {
      if (event.kind === 'subscribed') return true;
      const reply = toReply(event.message, operation, thingName);
      if (reply?.clientToken !== undefined) waiting.get(reply.clientToken)?.(reply);
      return false;
    };
    const ready$ = port.subscribe(filterText).pipe(
      filter(route),
      map(() => undefined),
      // Late joiners learn at once that the SUBACK already came.
      share({ connector: () => new ReplaySubject<void>(1), ...linger }),
    );
    const created = { ready$, waiting };
    families.set(filterText, created);
    return created;
  };

  const request = (call: Call): Observable<Reply> =>
    new Observable<Reply>((subscriber) => {
      const { ready$, waiting } = family(call.operation, call.thingName);
      const topic = requestTopic(call.operation, call.thingName, call.jobId);
      const payload = JSON.stringify(call.payload);
      const fail = (error: unknown): void => {
        subscriber.error(error);
      };
      let acked = false;
      let lost = false;
      const publish = (): Subscription => {
        acked = false;
        return port.publish(topic, payload).subscribe({ error: fail, complete: () => (acked = true) });
      };
      waiting.set(call.clientToken, (reply) => {
        subscriber.next(reply);
      });
      // Holding the family keeps its subscription up for as long as this request waits.
      const held = ready$.subscribe({ error: fail });
      const sent = ready$.pipe(first()).subscribe({
        next: () => publish(),
        // `first()` fails with EmptyError when the subscription ends without a SUBACK.
        error: (error: unknown) => {
          fail(
            error instanceof EmptyError
              ? new TransportError(`the subscription for ${call.operation} ended before the broker granted it`, { operation: call.operation })
              : error,
          );
        },
      });
      const watched = connection$
        .pipe(
          mergeMap((state) => {
            if (state === 'end') throw new TransportError(`the MQTT client ended while ${call.operation} was in flight`, { operation: call.operation });
            if (state === 'up') {
              const resend = lost;
              lost = false;
              return resend ? [state] : EMPTY;
            }
            if (!acked) return EMPTY; // mqtt.js sends it again itself
            if (resendable(call)) {
              lost = true;
              return EMPTY;
            }
            throw new TransportError(`connection lost while ${call.operation} was in flight; whether it was applied is unknown`, {
              operation: call.operation,
            });
          }),
        )
        .subscribe({ next: () => publish(), error: fail });
      return () => {
        waiting.delete(call.clientToken);
        watched.unsubscribe();
        sent.unsubscribe();
        held.unsubscribe();
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
      const event$ = port.subscribe(topic).pipe(mergeMap(toEvent), share(linger));
      events.set(topic, event$);
      return event$;
    },
  };
};
