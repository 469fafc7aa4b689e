import { Observable, Subject } from '../rx';
import type { ConnectionState, MqttPort, SubscriptionEvent } from '../transport/mqtt-port';
import { matchesFilter } from '../transport/topics';
import { TransportError } from '../errors';

/** One thing the fake port was asked to do, in order. */
export type FakeMqttAction =
  | { readonly kind: 'subscribe'; readonly filter: string }
  | { readonly kind: 'unsubscribe'; readonly filter: string }
  | { readonly kind: 'publish'; readonly topic: string; readonly payload: string };

/** Options of {@link createFakeMqttPort}. */
export interface FakeMqttPortOptions {
  /** Grant every SUBSCRIBE at once (synchronously). Default true; false waits for {@link FakeMqttPort.grant}. */
  readonly autoGrant?: boolean;
  /** Called for every publish; what it returns is delivered as inbound messages, in order. */
  readonly responder?: (topic: string, payload: string) => readonly { topic: string; payload: string }[];
}

/** An in-memory {@link MqttPort} for unit tests of stream code: no broker, fully synchronous. */
export interface FakeMqttPort extends MqttPort {
  /** Everything asked of the port, in order. */
  readonly actions: readonly FakeMqttAction[];
  /** Filters subscribed now. */
  readonly activeFilters: () => readonly string[];
  /** Publishes so far. */
  readonly published: () => readonly { topic: string; payload: string }[];
  /** Delivers a message to every active subscription whose filter matches `topic`. */
  readonly deliver: (topic: string, payload: string | object) => void;
  /**
   * Grants pending SUBSCRIBEs for `filter` (all pending ones when omitted), with `autoGrant: false`, and
   * lapsed ones again: as on a new session, or with `resumed: true` as on a resumed one.
   */
  readonly grant: (filter?: string, options?: { readonly resumed?: boolean }) => void;
  /** Refuses pending (or lapsed) SUBSCRIBEs for `filter` with a TransportError (reason code 128). */
  readonly refuse: (filter: string) => void;
  /** Makes the next publish fail with a TransportError. */
  readonly failNextPublish: () => void;
  /**
   * Makes granted subscriptions for `filter` (all when omitted) lapse, as the mqtt.js adapter's do when the
   * connection drops: they emit `lapsed`, keep delivering, and emit `subscribed` at the next {@link grant}.
   */
  readonly lapse: (filter?: string) => void;
  /** Reports a connection change on `connection$`. */
  readonly setConnection: (state: ConnectionState) => void;
}

interface Entry {
  readonly filter: string;
  readonly subscriber: Subject<SubscriptionEvent>;
  granted: boolean;
  lapsed: boolean;
}

/** Creates a {@link FakeMqttPort}. */
export const createFakeMqttPort = (options: FakeMqttPortOptions = {}): FakeMqttPort => {
  const autoGrant = options.autoGrant ?? true;
  const actions: FakeMqttAction[] = [];
  const entries = new Set<Entry>();
  const connection = new Subject<ConnectionState>();
  let publishFailures = 0;

  const deliver = (topic: string, payload: string | object): void => {
    const text = typeof payload === 'string' ? payload : JSON.stringify(payload);
    const bytes = new TextEncoder().encode(text);
    for (const entry of [...entries]) {
      if (entry.granted && matchesFilter(entry.filter, topic)) entry.subscriber.next({ kind: 'message', message: { topic, payload: bytes } });
    }
  };

  const grant = (filter?: string, grantOptions: { readonly resumed?: boolean } = {}): void => {
    for (const entry of [...entries]) {
      if ((!entry.granted || entry.lapsed) && (filter === undefined || entry.filter === filter)) {
        const resumed = entry.lapsed && grantOptions.resumed === true;
        entry.granted = true;
        entry.lapsed = false;
        entry.subscriber.next(resumed ? { kind: 'subscribed', resumed } : { kind: 'subscribed' });
      }
    }
  };

  return {
    actions,
    activeFilters: () => [...entries].map((entry) => entry.filter),
    published: () => actions.flatMap((action) => (action.kind === 'publish' ? [{ topic: action.topic, payload: action.payload }] : [])),
    deliver,
    grant,
    refuse: (filter) => {
      for (const entry of [...entries]) {
        if ((!entry.granted || entry.lapsed) && entry.filter === filter) {
          entries.delete(entry);
          entry.subscriber.error(new TransportError(`subscribe ${filter}: Subscribe error: Unspecified error`, { reasonCode: 128 }));
        }
      }
    },
    lapse: (filter) => {
      for (const entry of [...entries]) {
        if (entry.granted && !entry.lapsed && (filter === undefined || entry.filter === filter)) {
          entry.lapsed = true;
          entry.subscriber.next({ kind: 'lapsed' });
        }
      }
    },
    failNextPublish: () => {
      publishFailures += 1;
    },
    setConnection: (state) => {
      connection.next(state);
    },
    connection$: connection.asObservable(),
    subscribe: (filter) =>
      new Observable<SubscriptionEvent>((subscriber) => {
        const entry: Entry = { filter, subscriber: new Subject<SubscriptionEvent>(), granted: false, lapsed: false };
        const inner = entry.subscriber.subscribe(subscriber);
        entries.add(entry);
        actions.push({ kind: 'subscribe', filter });
        if (autoGrant) grant(filter);
        return () => {
          inner.unsubscribe();
          if (entries.delete(entry)) actions.push({ kind: 'unsubscribe', filter });
        };
      }),
    publish: (topic, payload) =>
      new Observable<void>((subscriber) => {
        actions.push({ kind: 'publish', topic, payload });
        if (publishFailures > 0) {
          publishFailures -= 1;
          subscriber.error(new TransportError(`publish ${topic}: simulated failure`));
          return;
        }
        subscriber.next();
        subscriber.complete();
        for (const reply of options.responder?.(topic, payload) ?? []) deliver(reply.topic, reply.payload);
      }),
  };
};
