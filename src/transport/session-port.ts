import { Observable, Subject, type Subscriber } from '../rx';
import { TransportError } from '../errors';
import type { ConnectionState, MqttClientPort, SubscriptionEvent } from './mqtt-port';
import { topicMatcher } from './topics';

/** How a SUBSCRIBE ended: granted, lost with the connection (sent again on the next one), or refused. */
export type SubscribeOutcome = { readonly kind: 'granted' } | { readonly kind: 'lost' } | { readonly kind: 'refused'; readonly error: TransportError };

/**
 * How a QoS 1 PUBLISH ended: acknowledged, lost with a session that did not survive the connection (the
 * transport sends it again or fails it, by operation), or failed.
 */
export type PublishOutcome = { readonly kind: 'acknowledged' } | { readonly kind: 'lost' } | { readonly kind: 'failed'; readonly error: TransportError };

/**
 * What an MQTT client adapter gives {@link sessionPort}: the client's three verbs, each calling back once, and
 * whether anything can be sent at all. The adapter is the only code that knows the client library.
 */
export interface SessionClient {
  /** Sends SUBSCRIBE (QoS 1) for `filter`, even one the client believes it holds. */
  readonly subscribe: (filter: string, done: (outcome: SubscribeOutcome) => void) => void;
  /** Sends UNSUBSCRIBE; `done` at the UNSUBACK, or at once when there is no connection left to send it on. */
  readonly unsubscribe: (filter: string, done: () => void) => void;
  /** Publishes at QoS 1. */
  readonly publish: (topic: string, payload: string, done: (outcome: PublishOutcome) => void) => void;
  /** Why nothing can be sent now (the client has ended, or will never connect again), else undefined. */
  readonly refusal: (what: string) => TransportError | undefined;
}

/** A port over a {@link SessionClient}, and what its adapter tells it of the connection. */
export interface SessionPort {
  readonly port: MqttClientPort;
  /** A PUBLISH arrived: for every filter held that matches `topic`. */
  readonly message: (topic: string, payload: Uint8Array) => void;
  /**
   * A PUBLISH arrived through the subscription of `filter` (a client that calls back per subscription, once per
   * matching one): for that filter only.
   */
  readonly messageOn: (filter: string, topic: string, payload: Uint8Array) => void;
  /**
   * The connection dropped: filters lapse until granted again. With `forGood` (why nothing will open it again),
   * every subscription fails instead, with that reason.
   */
  readonly dropped: (forGood?: string) => void;
  /** A CONNACK: a resumed session still holds what was granted on it; a new one is subscribed again. */
  readonly connected: (sessionPresent: boolean) => void;
  /** The client was closed by the app. */
  readonly ended: () => void;
}

/** Bumped when the port's behaviour changes, so that two versions of this package in one process never share. */
const portProtocol = 1;

/** A port another copy of this package left on the client (see {@link onePortPerClient}). */
const isClientPort = (value: unknown): value is MqttClientPort =>
  typeof value === 'object' &&
  value !== null &&
  'subscribe' in value &&
  typeof value.subscribe === 'function' &&
  'publish' in value &&
  typeof value.publish === 'function' &&
  'connection$' in value &&
  typeof value.connection$ === 'object';

/**
 * Memoises an adapter: one port per client, so every transport on a client shares each filter's SUBSCRIBE,
 * and one's UNSUBSCRIBE cannot cancel the broker subscription another still relies on. The port is also left
 * on the client under a registered symbol, so that the CommonJS and ESM builds of this package, both loaded
 * in one process (an app importing it while a dependency requires it), share it: two ports on one client lost
 * each other's notifications.
 */
export const onePortPerClient = <C extends object>(kind: string, adapt: (client: C) => MqttClientPort): ((client: C) => MqttClientPort) => {
  const key = Symbol.for(`iot-jobs-rx/port/${kind}/${portProtocol}`);
  // Only for a client the port cannot be left on (frozen, sealed).
  const unmarked = new WeakMap<C, MqttClientPort>();
  return (client) => {
    const shared: unknown = Reflect.get(client, key);
    if (isClientPort(shared)) return shared;
    const known = unmarked.get(client);
    if (known !== undefined) return known;
    const port = adapt(client);
    if (shared === undefined && Object.isExtensible(client)) Object.defineProperty(client, key, { value: port });
    else unmarked.set(client, port);
    return port;
  };
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

/**
 * The MqttPort every client adapter shares: subscriptions of one filter share one SUBSCRIBE, and the
 * UNSUBSCRIBE goes when the last one ends. Reconnecting stays with the client; each filter follows the
 * session: `lapsed` when the connection drops (before `connection$` says `down`), then `subscribed` again,
 * with `resumed: true` at once when the resumed session still holds it, else at the SUBACK of the port's own
 * SUBSCRIBE (a new session holds nothing, and not every client subscribes again, or says when it has).
 */
export const sessionPort = (client: SessionClient): SessionPort => {
  // Filters whose UNSUBSCRIBE is still unacknowledged: a new SUBSCRIBE for one waits for its UNSUBACK,
  // since a broker may complete a later SUBSCRIBE before an earlier UNSUBSCRIBE (aedes does) and so lose it.
  const unsubscribing = new Map<string, (() => void)[]>();
  const whenUnsubscribed = (filter: string, then: () => void): void => {
    const waiting = unsubscribing.get(filter);
    if (waiting === undefined) then();
    else waiting.push(then);
  };
  const unsubscribe = (filter: string): void => {
    unsubscribing.set(filter, unsubscribing.get(filter) ?? []);
    client.unsubscribe(filter, () => {
      const waiting = unsubscribing.get(filter) ?? [];
      unsubscribing.delete(filter);
      for (const then of waiting) then();
    });
  };

  const held = new Map<string, Held>();
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

  const fail = (filter: string, entry: Held, error: TransportError): void => {
    const subscribers = [...entry.told, ...entry.waiting];
    release(filter, entry);
    for (const subscriber of subscribers) subscriber.error(error);
  };

  // The connection is gone for good: every subscription fails, and no UNSUBSCRIBE is left for the client to
  // hold (mqtt.js would keep one outgoing, and a graceful end() would wait for it for ever).
  const failAll = (reason: string): void => {
    for (const [filter, entry] of [...held]) {
      if (held.get(filter) !== entry) continue;
      held.delete(filter);
      // Said of the connection: a request that fails with it sent no SUBSCRIBE of its own.
      const error = new TransportError(`${reason} (subscription ${filter})`);
      for (const subscriber of [...entry.told, ...entry.waiting]) subscriber.error(error);
    }
    // An UNSUBACK that will not come holds nothing back: no SUBSCRIBE waits for it now.
    for (const [filter, waiting] of [...unsubscribing]) {
      unsubscribing.delete(filter);
      for (const then of waiting) then();
    }
  };

  const trySubscribe = (filter: string, entry: Held): void => {
    if (held.get(filter) !== entry) return;
    const sentOn = generation;
    entry.sent = true;
    entry.outstanding += 1;
    client.subscribe(filter, (outcome) => {
      if (held.get(filter) !== entry || sentOn !== generation) return;
      entry.outstanding -= 1;
      // Lost with the connection: the next CONNACK sends it again, instead of failing every request waiting on it.
      if (outcome.kind === 'lost') return;
      if (outcome.kind === 'refused') {
        fail(filter, entry, outcome.error);
        return;
      }
      entry.onSession = true;
      if (!entry.granted) grant(entry, false);
    });
  };

  const deliver = (entry: Held, topic: string, payload: Uint8Array): void => {
    if (entry.told.size === 0 || !entry.matches(topic)) return;
    for (const subscriber of [...entry.told]) subscriber.next({ kind: 'message', message: { topic, payload } });
  };

  // `connection$` is told after the filters: a filter has lapsed by the time a transport hears `down`.
  const states = new Subject<ConnectionState>();

  const port: MqttClientPort = {
    subscribe: (filter) =>
      new Observable<SubscriptionEvent>((subscriber) => {
        const refused = client.refusal(`subscribe ${filter}`);
        if (refused !== undefined) {
          subscriber.error(refused);
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
        // Subscribed only once the subscriber is in: the client may fail the SUBSCRIBE at once (client ending).
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
        const refused = client.refusal(`publish ${topic}`);
        if (refused !== undefined) {
          subscriber.error(refused);
          return;
        }
        client.publish(topic, payload, (outcome) => {
          if (outcome.kind === 'failed') {
            subscriber.error(outcome.error);
            return;
          }
          if (outcome.kind === 'acknowledged') subscriber.next();
          subscriber.complete();
        });
      }),
    connection$: states.asObservable(),
  };

  return {
    port,
    message: (topic, payload) => {
      for (const entry of held.values()) deliver(entry, topic, payload);
    },
    messageOn: (filter, topic, payload) => {
      const entry = held.get(filter);
      if (entry !== undefined) deliver(entry, topic, payload);
    },
    dropped: (forGood) => {
      generation += 1;
      // No grant will come again: every subscription fails now, instead of lapsing for ever.
      if (forGood !== undefined) failAll(forGood);
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
    },
    connected: (sessionPresent) => {
      for (const [filter, entry] of [...held]) {
        if (!sessionPresent) entry.onSession = false;
        if (!entry.sent || entry.granted || entry.outstanding > 0) continue;
        if (entry.onSession) grant(entry, true);
        else trySubscribe(filter, entry);
      }
      states.next('up');
    },
    ended: () => {
      states.next('end');
    },
  };
};
