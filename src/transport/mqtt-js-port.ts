import type { IConnackPacket, ISubscriptionMap, MqttClient } from 'mqtt';
import { Observable, type Subscriber } from '../rx';
import { TransportError } from '../errors';
import type { ConnectionState, MqttPort, SubscriptionEvent } from './mqtt-port';
import { topicMatcher } from './topics';

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

/** The broker's subscription of one filter, shared by every port subscription of it. */
interface Held {
  /** Subscribers told `subscribed` and not since `lapsed`: they get the messages. */
  readonly told: Set<Subscriber<SubscriptionEvent>>;
  /** Subscribers waiting for the filter to be granted (first, or again after a lapse). */
  readonly waiting: Set<Subscriber<SubscriptionEvent>>;
  /** The broker holds the filter on this session, as far as the port knows. */
  granted: boolean;
  everGranted: boolean;
  /** A SUBSCRIBE went out, so an UNSUBSCRIBE is due at the end. */
  sent: boolean;
  /** SUBSCRIBEs whose SUBACK (or failure) has not come back yet. */
  outstanding: number;
  readonly close: () => void;
}

// One port per mqtt.js client: every transport on a client then shares each filter's subscription, and one's
// UNSUBSCRIBE cannot cancel the broker subscription another still relies on.
const ports = new WeakMap<MqttClient, MqttPort>();

/**
 * Adapts a connected (or connecting) mqtt.js client; the same port for the same client. Subscriptions of one
 * filter share one SUBSCRIBE, and the UNSUBSCRIBE goes when the last one ends. Reconnecting stays with
 * mqtt.js; each filter follows the session: `lapsed` when the connection drops, `subscribed` again at once on
 * a resumed session that still holds it, or at the SUBACK of the port's own SUBSCRIBE on a new one.
 */
export const fromMqttClient = (client: MqttClient): MqttPort => {
  const existing = ports.get(client);
  if (existing !== undefined) return existing;
  const port = adapt(client);
  ports.set(client, port);
  return port;
};

const adapt = (client: MqttClient): MqttPort => {
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

  const held = new Map<string, Held>();

  const hold = (filter: string): Held => {
    const matches = topicMatcher(filter);
    const entry: Held = { told: new Set(), waiting: new Set(), granted: false, everGranted: false, sent: false, outstanding: 0, close: () => { release(); } };
    const grant = (): void => {
      entry.granted = true;
      entry.everGranted = true;
      for (const subscriber of [...entry.waiting]) {
        entry.waiting.delete(subscriber);
        entry.told.add(subscriber);
        subscriber.next({ kind: 'subscribed' });
      }
    };
    const fail = (error: TransportError): void => {
      const subscribers = [...entry.told, ...entry.waiting];
      release();
      for (const subscriber of subscribers) subscriber.error(error);
    };
    const trySubscribe = (): void => {
      if (held.get(filter) !== entry) return;
      entry.sent = true;
      entry.outstanding += 1;
      // `resubscribe` makes mqtt.js send the SUBSCRIBE even for a filter it already holds (it would call back
      // at once, with no SUBACK): after a reconnect its own resubscription may not be granted yet.
      const subscription: ISubscriptionMap = { [filter]: { qos: 1 } };
      subscription.resubscribe = true;
      client.subscribe(subscription, (error) => {
        entry.outstanding -= 1;
        if (held.get(filter) !== entry) return;
        if (error) {
          // mqtt.js fails a SUBSCRIBE still waiting for its SUBACK when the connection drops; while it
          // reconnects, `onConnect` sends it again instead of failing every request waiting on it.
          if (reasonCodeOf(error) === undefined && !client.connected && !client.disconnecting) return;
          fail(toTransportError(`subscribe ${filter}`, error));
          return;
        }
        if (!entry.granted) grant();
      });
    };
    // Messages before the first SUBACK belong to other subscriptions: the contract is `subscribed` first.
    // Subscribers told keep getting them while the filter lapses: mqtt.js's own resubscribe can be
    // acknowledged, and deliver, before the port's.
    const onMessage = (topic: string, payload: Buffer): void => {
      if (entry.told.size === 0 || !matches(topic)) return;
      for (const subscriber of [...entry.told]) subscriber.next({ kind: 'message', message: { topic, payload } });
    };
    // The session is gone: until the broker holds the filter again, a request's reply could be lost.
    const onClose = (): void => {
      if (!entry.granted) return;
      entry.granted = false;
      for (const subscriber of [...entry.told]) {
        entry.waiting.add(subscriber);
        subscriber.next({ kind: 'lapsed' });
      }
    };
    // A resumed session (clean: false) still holds the filter. A new one does not: mqtt.js subscribes again
    // itself, but only after it has re-sent the PUBLISHes it kept and without telling its SUBACK, so the port
    // sends its own SUBSCRIBE.
    const onConnect = (connack: IConnackPacket): void => {
      if (!entry.sent || entry.granted || entry.outstanding > 0) return;
      if (entry.everGranted && connack.sessionPresent) grant();
      else trySubscribe();
    };
    // The last subscriber left, or the filter failed: the next subscription holds it anew.
    const release = (): void => {
      if (held.get(filter) !== entry) return;
      held.delete(filter);
      client.removeListener('message', onMessage);
      client.removeListener('close', onClose);
      client.removeListener('connect', onConnect);
      if (entry.sent) unsubscribe(filter);
    };
    held.set(filter, entry);
    client.on('message', onMessage);
    client.on('close', onClose);
    client.on('connect', onConnect);
    whenUnsubscribed(filter, trySubscribe);
    return entry;
  };

  return {
    subscribe: (filter) =>
      new Observable<SubscriptionEvent>((subscriber) => {
        const entry = held.get(filter) ?? hold(filter);
        if (entry.granted) {
          entry.told.add(subscriber);
          subscriber.next({ kind: 'subscribed' });
        } else {
          entry.waiting.add(subscriber);
        }
        return () => {
          entry.told.delete(subscriber);
          entry.waiting.delete(subscriber);
          if (entry.told.size === 0 && entry.waiting.size === 0) entry.close();
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
