import type { IConnackPacket, ISubscriptionMap, MqttClient } from 'mqtt';
import { Observable, Subject, type Subscriber } from '../rx';
import { TransportError } from '../errors';
import type { ConnectionState, MqttClientPort, SubscriptionEvent } from './mqtt-port';
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
  readonly matches: (topic: string) => boolean;
  /** Subscribers told `subscribed` (and not since ended): they get the messages, also while lapsed. */
  readonly told: Set<Subscriber<SubscriptionEvent>>;
  /** Subscribers waiting for `subscribed`: first, or again after a lapse. */
  readonly waiting: Set<Subscriber<SubscriptionEvent>>;
  /** The broker holds the filter now, as far as the port knows (false before the SUBACK and while lapsed). */
  granted: boolean;
  /** A SUBACK came on the current session: a resumed session still holds the filter. */
  onSession: boolean;
  /** A SUBSCRIBE went out, so an UNSUBSCRIBE is due at the end. */
  sent: boolean;
  /** SUBSCRIBEs of the current connection whose SUBACK (or failure) has not come back yet. */
  outstanding: number;
}

// One port per mqtt.js client: every transport on a client then shares each filter's subscription, and one's
// UNSUBSCRIBE cannot cancel the broker subscription another still relies on.
const ports = new WeakMap<MqttClient, MqttClientPort>();

/**
 * Adapts a connected (or connecting) mqtt.js client; the same port for the same client. Subscriptions of one
 * filter share one SUBSCRIBE, and the UNSUBSCRIBE goes when the last one ends. Reconnecting stays with
 * mqtt.js; each filter follows the session: `lapsed` when the connection drops (before `connection$` says
 * `down`), then `subscribed` again: with `resumed: true` at once when the resumed session still holds it, else
 * at the SUBACK of the port's own SUBSCRIBE.
 */
export const fromMqttClient = (client: MqttClient): MqttClientPort => {
  const existing = ports.get(client);
  if (existing !== undefined) return existing;
  const port = adapt(client);
  ports.set(client, port);
  return port;
};

const adapt = (client: MqttClient): MqttClientPort => {
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
  // `disconnected`: end() has finished, and neither connect() nor reconnect() has run since (a drop does not set
  // it; while end() runs, mqtt.js refuses calls itself). With reconnecting off, mqtt.js would then queue a
  // SUBSCRIBE or PUBLISH offline for ever, never calling back.
  // `closed`: the connection dropped and nothing will open it again: mqtt.js does not reconnect by itself
  // (reconnectPeriod 0) and end() was not called, so `disconnected` stays false. Until the app calls reconnect(),
  // a SUBSCRIBE or PUBLISH would wait offline for ever too.
  let closed = false;
  const closedReason = 'the connection closed and the MQTT client does not reconnect by itself (reconnectPeriod 0); call reconnect()';
  const endedError = (what: string): TransportError | undefined =>
    client.disconnected ? new TransportError(`${what}: the MQTT client has ended`) : closed ? new TransportError(`${what}: ${closedReason}`) : undefined;
  // Counts connections: a SUBSCRIBE's callback from before the last drop says nothing of this one (mqtt.js can
  // even write one to a stream it has just destroyed, and never call back).
  let generation = 0;

  const grant = (entry: Held, resumed: boolean): void => {
    entry.granted = true;
    for (const subscriber of [...entry.waiting]) {
      // One subscriber's `next` may end another.
      if (!entry.waiting.delete(subscriber)) continue;
      entry.told.add(subscriber);
      subscriber.next(resumed ? { kind: 'subscribed', resumed } : { kind: 'subscribed' });
    }
  };

  const release = (filter: string, entry: Held): void => {
    if (held.get(filter) !== entry) return;
    held.delete(filter);
    if (entry.sent) unsubscribe(filter);
  };

  const trySubscribe = (filter: string, entry: Held): void => {
    if (held.get(filter) !== entry) return;
    const sentOn = generation;
    entry.sent = true;
    entry.outstanding += 1;
    // `resubscribe` makes mqtt.js send the SUBSCRIBE even for a filter it already holds (it would call back at
    // once, with no SUBACK): after a reconnect its own resubscription may not be granted yet.
    const subscription: ISubscriptionMap = { [filter]: { qos: 1 } };
    subscription.resubscribe = true;
    client.subscribe(subscription, (error) => {
      if (held.get(filter) !== entry || sentOn !== generation) return;
      entry.outstanding -= 1;
      if (error) {
        // mqtt.js fails a SUBSCRIBE still waiting for its SUBACK when the connection drops; while it
        // reconnects, `connect` below sends it again instead of failing every request waiting on it.
        if (reasonCodeOf(error) === undefined && !client.connected && !client.disconnecting) return;
        const subscribers = [...entry.told, ...entry.waiting];
        release(filter, entry);
        const failure = toTransportError(`subscribe ${filter}`, error);
        for (const subscriber of subscribers) subscriber.error(failure);
        return;
      }
      entry.onSession = true;
      if (!entry.granted) grant(entry, false);
    });
  };

  // One set of listeners for the port, whatever the number of filters and transports. `connection$` is told
  // from them too, after the filters: a filter has lapsed by the time a transport hears `down`.
  const states = new Subject<ConnectionState>();
  client.on('message', (topic, payload) => {
    for (const entry of held.values()) {
      if (entry.told.size === 0 || !entry.matches(topic)) continue;
      for (const subscriber of [...entry.told]) subscriber.next({ kind: 'message', message: { topic, payload } });
    }
  });
  // The session is gone: until the broker holds the filter again, a reply could be lost.
  client.on('close', () => {
    generation += 1;
    // mqtt.js's own 'close' listener, added when the client was made, has already chosen whether to reconnect.
    if (!client.reconnecting && !client.disconnecting) {
      closed = true;
      // No grant will come again: every subscription fails now, instead of lapsing for ever.
      for (const [filter, entry] of [...held]) {
        const subscribers = [...entry.told, ...entry.waiting];
        release(filter, entry);
        const failure = new TransportError(`subscribe ${filter}: ${closedReason}`);
        for (const subscriber of subscribers) subscriber.error(failure);
      }
    }
    for (const entry of held.values()) {
      entry.outstanding = 0;
      if (!entry.granted) continue;
      entry.granted = false;
      for (const subscriber of [...entry.told]) {
        if (!entry.told.has(subscriber)) continue;
        entry.waiting.add(subscriber);
        subscriber.next({ kind: 'lapsed' });
      }
    }
    states.next('down');
  });
  // A resumed session (clean: false) still holds a filter granted on it. A new one does not: mqtt.js subscribes
  // again itself, but only after it has re-sent the PUBLISHes it kept and without telling its SUBACK, so the
  // port sends its own SUBSCRIBE.
  client.on('reconnect', () => {
    closed = false;
  });
  client.on('connect', (connack: IConnackPacket) => {
    closed = false;
    for (const [filter, entry] of [...held]) {
      if (!connack.sessionPresent) entry.onSession = false;
      if (!entry.sent || entry.granted || entry.outstanding > 0) continue;
      if (entry.onSession) grant(entry, true);
      else trySubscribe(filter, entry);
    }
    states.next('up');
  });
  client.on('end', () => {
    states.next('end');
  });

  return {
    subscribe: (filter) =>
      new Observable<SubscriptionEvent>((subscriber) => {
        const ended = endedError(`subscribe ${filter}`);
        if (ended !== undefined) {
          subscriber.error(ended);
          return undefined;
        }
        const existing = held.get(filter);
        const entry: Held = existing ?? { matches: topicMatcher(filter), told: new Set(), waiting: new Set(), granted: false, onSession: false, sent: false, outstanding: 0 };
        if (entry.granted) {
          entry.told.add(subscriber);
          subscriber.next({ kind: 'subscribed' });
        } else {
          entry.waiting.add(subscriber);
        }
        // Subscribed only once the subscriber is in: mqtt.js may fail the SUBSCRIBE at once (client ending).
        if (existing === undefined) {
          held.set(filter, entry);
          whenUnsubscribed(filter, () => {
            trySubscribe(filter, entry);
          });
        }
        return () => {
          entry.told.delete(subscriber);
          entry.waiting.delete(subscriber);
          // The last one gone, the next subscription holds the filter anew.
          if (entry.told.size === 0 && entry.waiting.size === 0) release(filter, entry);
        };
      }),
    publish: (topic, payload) =>
      new Observable<void>((subscriber) => {
        const ended = endedError(`publish ${topic}`);
        if (ended !== undefined) {
          subscriber.error(ended);
          return;
        }
        client.publish(topic, payload, { qos: 1 }, (error) => {
          if (error) subscriber.error(toTransportError(`publish ${topic}`, error));
          else {
            subscriber.next();
            subscriber.complete();
          }
        });
      }),
    connection$: states.asObservable(),
  };
};
