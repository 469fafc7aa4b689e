import type { MqttClient } from 'mqtt';
import {
  EMPTY,
  type Observable,
  ReplaySubject,
  connect,
  defer,
  filter,
  first,
  ignoreElements,
  merge,
  mergeMap,
  of,
  race,
  scan,
  share,
  take,
  timer,
} from 'rxjs';
import { parseJson, type Parsed } from '../codecs/decode';
import type { ThingName } from '../codecs/primitives';
import { TransportError, type EventName, type OperationName } from '../errors';
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

/** A shared reply subscription: whether its SUBACK came, and the latest reply on it. */
interface FamilyState {
  readonly ready: boolean;
  readonly reply?: Reply;
}

const decoder = new TextDecoder();

// A reply that is not JSON can still name its request; reading the token lets it fail that request
// with a DecodeError at once instead of by timeout.
const scrapedToken = /"clientToken"\s*:\s*"([^"\\]{1,64})"/;

const clientTokenOf = (text: string, body: Parsed): string | undefined => {
  if (body.ok && typeof body.value === 'object' && body.value !== null && 'clientToken' in body.value) {
    const token: unknown = body.value.clientToken;
    return typeof token === 'string' ? token : undefined;
  }
  return body.ok ? undefined : scrapedToken.exec(text)?.[1];
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

// What to do with a request in flight when the session drops: reads are sent again after the reconnect;
// an update with `expectedVersion` is sent again with the same clientToken (the version makes it safe);
// other writes fail, since whether the service applied them is unknown.
const resendable = (call: Call): boolean =>
  call.operation === 'getPendingJobExecutions' ||
  call.operation === 'describeJobExecution' ||
  (call.operation === 'updateJobExecution' && call.payload.expectedVersion !== undefined);

/**
 * The Jobs API over the MQTT reserved topics, on an mqtt.js client (or any {@link MqttPort}).
 * A constant number of subscriptions per thing however many jobs: one wildcard filter per operation and
 * one per event, each shared by every request, released `lingerMs` after its last user.
 * A request is published only after its filter's SUBACK.
 */
export const mqttTransport = (client: MqttClient | MqttPort, options: MqttTransportOptions = {}): JobsTransport => {
  const port = isMqttPort(client) ? client : fromMqttClient(client);
  const lingerMs = options.lingerMs ?? 30_000;
  const shared = new Map<string, Observable<FamilyState>>();
  const events = new Map<string, Observable<EventMessage>>();
  // Linger after the last user leaves, but not past the client's end: a pending timer would keep Node alive.
  // Watched from the start (one listener), so an end that came before the last user left still counts.
  const ended$ = new ReplaySubject<void>(1);
  (port.connection$ ?? EMPTY)
    .pipe(
      filter((state) => state === 'end'),
      take(1),
    )
    .subscribe(() => {
      ended$.next();
    });
  const linger = { resetOnRefCountZero: () => race(timer(lingerMs), ended$) };

  const replies = (operation: OperationName, thingName: ThingName): Observable<FamilyState> => {
    const filterText = replyFilter(operation, thingName);
    const existing = shared.get(filterText);
    if (existing) return existing;
    const family$ = port.subscribe(filterText).pipe(
      scan(
        (state: FamilyState, event: SubscriptionEvent): FamilyState =>
          event.kind === 'subscribed'
            ? { ready: true }
            : { ready: state.ready, ...withReply(toReply(event.message, operation, thingName)) },
        { ready: false },
      ),
      // Late joiners get the latest state, so they know the SUBACK already came.
      share({ connector: () => new ReplaySubject<FamilyState>(1), ...linger }),
    );
    shared.set(filterText, family$);
    return family$;
  };

  const request = (call: Call): Observable<Reply> =>
    defer(() => {
      const topic = requestTopic(call.operation, call.thingName, call.jobId);
      const payload = JSON.stringify(call.payload);
      let published = false;
      const publish$ = defer(() => {
        published = true;
        return port.publish(topic, payload);
      });
      const reconnects$ = (port.connection$ ?? EMPTY).pipe(
        mergeMap((state) => {
          if (state === 'end') throw new TransportError(`the MQTT client ended while ${call.operation} was in flight`, { operation: call.operation });
          if (!published) return EMPTY;
          if (resendable(call)) return state === 'up' ? publish$ : EMPTY;
          if (state === 'up') return EMPTY;
          throw new TransportError(`connection lost while ${call.operation} was in flight; whether it was applied is unknown`, {
            operation: call.operation,
          });
        }),
      );
      return replies(call.operation, call.thingName).pipe(
        connect((state$) =>
          merge(
            state$.pipe(
              first((state) => state.ready),
              mergeMap(() => publish$),
              ignoreElements(),
            ),
            reconnects$.pipe(ignoreElements()),
            state$.pipe(mergeMap((state) => (state.reply === undefined ? EMPTY : of(state.reply)))),
          ),
        ),
      );
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

const withReply = (reply: Reply | undefined): { reply?: Reply } => (reply === undefined ? {} : { reply });

