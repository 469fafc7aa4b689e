import type { MqttClient } from 'mqtt';
import { Observable } from '../rx';
import { TransportError } from '../errors';
import { topicMatcher } from './topics';

/**
 * The narrow MQTT seam of the library: what the Jobs transport needs of an MQTT client, and nothing else.
 * The mqtt.js adapter below is, with connect-mqtt.ts, the only code that touches mqtt.js; other clients
 * (aws-crt, a test fake) implement the same interface.
 */

/** An inbound MQTT message. */
export interface MqttMessage {
  readonly topic: string;
  readonly payload: Uint8Array;
}

/** What a subscription emits: first `subscribed` (after the SUBACK), then each matching message. */
export type SubscriptionEvent = { readonly kind: 'subscribed' } | { readonly kind: 'message'; readonly message: MqttMessage };

/**
 * Connection changes the transport reacts to: `down` when the session is lost, `up` when it is back,
 * `end` when the client is closed for good (subscriptions are then released at once, not after a linger).
 */
export type ConnectionState = 'up' | 'down' | 'end';

/** The MQTT operations the Jobs transport uses. */
export interface MqttPort {
  /**
   * Subscribing sends SUBSCRIBE (QoS 1) for `filter`; the Observable emits `subscribed` once the broker
   * grants it, then every message whose topic matches `filter`. Unsubscribing sends UNSUBSCRIBE.
   * Errors with `TransportError` when the broker refuses the filter or the client cannot subscribe.
   */
  subscribe(filter: string): Observable<SubscriptionEvent>;
  /** Publishes at QoS 1; emits once and completes when the broker acknowledges. Errors with `TransportError`. */
  publish(topic: string, payload: string): Observable<void>;
  /** Connection changes after the port was created; absent when the client cannot report them. */
  readonly connection$?: Observable<ConnectionState>;
}

/** True when `client` is an MqttPort rather than an mqtt.js client (which has the `…Async` verbs). */
export const isMqttPort = (client: MqttClient | MqttPort): client is MqttPort =>
  !('subscribeAsync' in client && 'publishAsync' in client);

// mqtt.js reports a refused SUBSCRIBE either with `code` or (5.x) with the SUBACK packet's granted codes.
const reasonCodeOf = (error: Error): number | undefined => {
  const code: unknown = 'code' in error ? error.code : undefined;
  if (typeof code === 'number') return code;
  const packet: unknown = 'packet' in error ? error.packet : undefined;
  const granted: unknown = typeof packet === 'object' && packet !== null && 'granted' in packet ? packet.granted : undefined;
  const refused = Array.isArray(granted) ? granted.find((g: unknown): g is number => typeof g === 'number' && (g & 0x80) !== 0) : undefined;
  return refused;
};

const toTransportError = (what: string, error: Error): TransportError => {
  const reasonCode = reasonCodeOf(error);
  return new TransportError(`${what}: ${error.message}`, { cause: error, ...(reasonCode === undefined ? {} : { reasonCode }) });
};

/** Adapts a connected (or connecting) mqtt.js client. Reconnect and resubscribe stay with mqtt.js. */
export const fromMqttClient = (client: MqttClient): MqttPort => {
  // Filters whose UNSUBSCRIBE is still unacknowledged: a new SUBSCRIBE for one waits for its UNSUBACK,
  // since a broker may complete a later SUBSCRIBE before an earlier UNSUBSCRIBE (aedes does) and so lose it.
  const unsubscribing = new Map<string, (() => void)[]>();
  const whenUnsubscribed = (filter: string, then: () => void): void => {
    const waiting = unsubscribing.get(filter);
    if (waiting === undefined) then();
    else waiting.push(then);
  };
  const unsubscribe = (filter: string): void => {
    // An UNSUBSCRIBE that cannot be sent (client ended) has nothing left to undo.
    if (client.disconnecting || client.disconnected) return;
    unsubscribing.set(filter, unsubscribing.get(filter) ?? []);
    client.unsubscribe(filter, () => {
      const waiting = unsubscribing.get(filter) ?? [];
      unsubscribing.delete(filter);
      for (const then of waiting) then();
    });
  };
  return {
    subscribe: (filter) =>
      new Observable<SubscriptionEvent>((subscriber) => {
        let granted = false;
        let active = true;
        let sent = false;
        const matches = topicMatcher(filter);
        // Messages before the SUBACK belong to other subscriptions: the contract is `subscribed` first.
        const onMessage = (topic: string, payload: Buffer): void => {
          if (granted && matches(topic)) subscriber.next({ kind: 'message', message: { topic, payload } });
        };
        client.on('message', onMessage);
        let retryOnConnect: (() => void) | undefined;
        const trySubscribe = (): void => {
          retryOnConnect = undefined;
          if (!active) return;
          sent = true;
          client.subscribe(filter, { qos: 1 }, (error) => {
            if (!active) return;
            if (error) {
              // mqtt.js fails a SUBSCRIBE still waiting for its SUBACK when the connection drops; while it
              // reconnects, send it again once connected instead of failing every request waiting on it.
              if (reasonCodeOf(error) === undefined && !client.connected && !client.disconnecting) {
                retryOnConnect = trySubscribe;
                client.once('connect', trySubscribe);
                return;
              }
              subscriber.error(toTransportError(`subscribe ${filter}`, error));
              return;
            }
            granted = true;
            subscriber.next({ kind: 'subscribed' });
          });
        };
        whenUnsubscribed(filter, trySubscribe);
        return () => {
          active = false;
          if (retryOnConnect !== undefined) client.removeListener('connect', retryOnConnect);
          client.removeListener('message', onMessage);
          if (sent) unsubscribe(filter);
        };
      }),
    publish: (topic, payload) =>
      new Observable<void>((subscriber) => {
        client.publish(topic, payload, { qos: 1 }, (error) => {
          if (error) subscriber.error(toTransportError(`publish ${topic}`, error));
          else {
            subscriber.next();
            subscriber.complete();
          }
        });
      }),
    connection$: new Observable<ConnectionState>((subscriber) => {
      const emit = (state: ConnectionState) => (): void => {
        subscriber.next(state);
      };
      const up = emit('up');
      const down = emit('down');
      const end = emit('end');
      client.on('connect', up);
      client.on('close', down);
      client.on('end', end);
      return () => {
        client.removeListener('connect', up);
        client.removeListener('close', down);
        client.removeListener('end', end);
      };
    }),
  };
};
