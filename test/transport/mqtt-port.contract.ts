import { Subject, filter, firstValueFrom, interval, lastValueFrom, materialize, startWith, throwError, timeout, toArray, type Observable, type Subscription } from 'rxjs';
import type { ConnectionState, MqttPort, SubscriptionEvent } from '../../src/transport/mqtt-port';

/**
 * The behaviour every {@link MqttPort} must show, whatever client it wraps (mqtt.js `abstract_store.ts`
 * style): call `mqttPortContract(name, make)` from a spec file with a factory for a fresh port.
 */

/** A fresh port, a way to get a message to it from outside, and its teardown. */
export interface MqttPortFixture {
  readonly port: MqttPort;
  /** Publishes `payload` on `topic` from outside the port (another client, or the fake's `deliver`). */
  readonly deliver: (topic: string, payload: string) => Promise<void>;
  readonly close: () => Promise<void>;
}

const decoder = new TextDecoder();

/** What a subscription emitted so far, with a way to wait for more. */
export interface Recording {
  readonly kinds: () => readonly SubscriptionEvent['kind'][];
  readonly topics: () => readonly string[];
  readonly payloads: () => readonly string[];
  /** The error the subscription ended with, `undefined` while it has none. */
  readonly error: () => unknown;
  /** Resolves once `predicate` holds; rejects (naming `what` and what was seen) after `timeoutMs`. */
  readonly until: (what: string, predicate: () => boolean, timeoutMs?: number) => Promise<void>;
  readonly untilSubscribed: () => Promise<void>;
  readonly untilReceived: (topic: string, count?: number) => Promise<void>;
  readonly unsubscribe: () => void;
}

/** Recordings of a test's port subscriptions and connection states, released together after the test. */
export interface PortRecorder {
  readonly subscribe: (port: MqttPort, filter: string) => Recording;
  /** Every state the port's `connection$` emits from now on; throws for a port without one. */
  readonly recordConnection: (port: MqttPort) => ConnectionState[];
  /** Ends every recording and connection watch made so far. */
  readonly release: () => void;
}

/** A {@link PortRecorder}: call `release()` in `afterEach`. */
export const portRecorder = (): PortRecorder => {
  const recordings: Recording[] = [];
  const subscriptions: Subscription[] = [];
  return {
    subscribe: (port, filter) => {
      const recording = record(port.subscribe(filter));
      recordings.push(recording);
      return recording;
    },
    recordConnection: (port) => {
      const states: ConnectionState[] = [];
      const connection$ = port.connection$;
      if (connection$ === undefined) throw new Error('the port must expose connection$');
      subscriptions.push(connection$.subscribe((state) => states.push(state)));
      return states;
    },
    release: () => {
      for (const recording of recordings.splice(0)) recording.unsubscribe();
      for (const subscription of subscriptions.splice(0)) subscription.unsubscribe();
    },
  };
};

/** Resolves once `predicate` holds, polling every few ms; rejects naming `what` after `timeoutMs`. */
export const waitFor = (what: string, predicate: () => boolean, timeoutMs = 3000): Promise<unknown> =>
  firstValueFrom(
    interval(5).pipe(
      startWith(-1),
      filter(() => predicate()),
      timeout({ first: timeoutMs, with: () => throwError(() => new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)) }),
    ),
  );

/** Subscribes to `source` at once and records everything it emits. */
export const record = (source: Observable<SubscriptionEvent>): Recording => {
  const events: SubscriptionEvent[] = [];
  const changed = new Subject<void>();
  let failure: unknown;
  const subscription = source.subscribe({
    next: (event) => {
      events.push(event);
      changed.next();
    },
    error: (error: unknown) => {
      failure = error;
      changed.next();
    },
  });
  const kinds = (): SubscriptionEvent['kind'][] => events.map((event) => event.kind);
  const messages = () => events.flatMap((event) => (event.kind === 'message' ? [event.message] : []));
  const topics = (): string[] => messages().map((message) => message.topic);
  const payloads = (): string[] => messages().map((message) => decoder.decode(message.payload));
  const seen = (): string => `${JSON.stringify(events.map((e) => (e.kind === 'message' ? e.message.topic : e.kind)))}, error ${String(failure)}`;
  const until = async (what: string, predicate: () => boolean, timeoutMs = 3000): Promise<void> => {
    await firstValueFrom(
      changed.pipe(
        startWith(undefined),
        filter(() => predicate()),
        timeout({ first: timeoutMs, with: () => throwError(() => new Error(`timed out waiting for ${what}; saw ${seen()}`)) }),
      ),
    );
  };
  return {
    kinds,
    topics,
    payloads,
    error: () => failure,
    until,
    untilSubscribed: () => until('subscribed', () => kinds().includes('subscribed')),
    untilReceived: (topic, count = 1) => until(`${count} × ${topic}`, () => topics().filter((t) => t === topic).length >= count),
    unsubscribe: () => { subscription.unsubscribe(); },
  };
};

/** What the broker behind a fixture does that the contract must allow for. */
export interface MqttPortContractOptions {
  /** The broker sends a copy of a message per matching subscription (mosquitto with MQTT 5), not one. */
  readonly copyPerSubscription?: boolean;
}

export const mqttPortContract = (name: string, make: () => Promise<MqttPortFixture>, options: MqttPortContractOptions = {}): void => {
  describe(`${name} (MqttPort contract)`, () => {
    let fixture: MqttPortFixture;
    let recordings: Recording[];

    const subscribe = (filter: string): Recording => {
      const recording = record(fixture.port.subscribe(filter));
      recordings.push(recording);
      return recording;
    };

    beforeEach(async () => {
      recordings = [];
      fixture = await make();
    });

    afterEach(async () => {
      for (const recording of recordings) recording.unsubscribe();
      await fixture.close();
    });

    it(`${name} - subscribe emits subscribed exactly once, before any message`, async () => {
      const sub = subscribe('contract/one');
      await sub.untilSubscribed();
      await fixture.deliver('contract/one', 'm1');
      await fixture.deliver('contract/one', 'm2');
      await fixture.deliver('contract/one', 'm3');
      await sub.untilReceived('contract/one', 3);
      expect(sub.kinds()).toEqual(['subscribed', 'message', 'message', 'message']);
      expect(sub.payloads()).toEqual(['m1', 'm2', 'm3']);
      expect(sub.error()).toBeUndefined();
    });

    it(`${name} - emits only messages whose topic matches the filter (+ one level, # the rest and the parent)`, async () => {
      const topics = ['contract/a/x', 'contract/a/y', 'contract/a/x/z', 'contract//x', 'contract', 'other/a/x', 'contract/end/x'];
      const received = async (filter: string): Promise<Recording> => {
        const sub = subscribe(filter);
        await sub.untilSubscribed();
        for (const topic of topics) await fixture.deliver(topic, topic);
        await sub.untilReceived('contract/end/x');
        return sub;
      };
      // Overlapping filters held together, unless the broker sends a copy per matching subscription (then each
      // port subscription gets every copy: see docs/usage.md).
      const together = options.copyPerSubscription !== true;
      const plus = together ? subscribe('contract/+/x') : await received('contract/+/x');
      if (!together) plus.unsubscribe();
      const hash = together ? subscribe('contract/#') : await received('contract/#');
      if (together) {
        await plus.untilSubscribed();
        await hash.untilSubscribed();
        for (const topic of topics) await fixture.deliver(topic, topic);
        await plus.untilReceived('contract/end/x');
        await hash.untilReceived('contract/end/x');
      }
      expect(plus.topics()).toEqual(['contract/a/x', 'contract//x', 'contract/end/x']);
      expect(hash.topics()).toEqual(['contract/a/x', 'contract/a/y', 'contract/a/x/z', 'contract//x', 'contract', 'contract/end/x']);
      expect(plus.payloads()).toEqual(plus.topics());
    });

    it(`${name} - a filter starting with a wildcard gets no $ topics, even when another filter brings them (MQTT-4.7.2-1)`, async () => {
      const hash = subscribe('#');
      const dollar = subscribe('$aws/things/thing-A/jobs/notify');
      await hash.untilSubscribed();
      await dollar.untilSubscribed();
      await fixture.deliver('$aws/things/thing-A/jobs/notify', '{}');
      await dollar.untilReceived('$aws/things/thing-A/jobs/notify');
      await fixture.deliver('contract/end', 'end');
      await hash.untilReceived('contract/end');
      expect(hash.topics()).toEqual(['contract/end']);
    });

    it(`${name} - unsubscribing stops delivery`, async () => {
      const sub = subscribe('contract/stop');
      const sentinel = subscribe('contract/sentinel');
      await sub.untilSubscribed();
      await sentinel.untilSubscribed();
      await fixture.deliver('contract/stop', 'before');
      await sub.untilReceived('contract/stop');
      sub.unsubscribe();
      await fixture.deliver('contract/stop', 'after');
      await fixture.deliver('contract/sentinel', 'barrier');
      await sentinel.untilReceived('contract/sentinel');
      expect(sub.payloads()).toEqual(['before']);
      expect(sub.error()).toBeUndefined();
    });

    it(`${name} - unsubscribing before the grant, then subscribing again, delivers each message once`, async () => {
      subscribe('contract/again').unsubscribe();
      const again = subscribe('contract/again');
      await again.untilSubscribed();
      await fixture.deliver('contract/again', 'once');
      await fixture.deliver('contract/again', 'twice');
      await again.untilReceived('contract/again', 2);
      expect(again.kinds()).toEqual(['subscribed', 'message', 'message']);
      expect(again.payloads()).toEqual(['once', 'twice']);
    });

    it(`${name} - unsubscribing after the grant and at once subscribing the same filter again keeps delivering`, async () => {
      const first = subscribe('contract/again');
      await first.untilSubscribed();
      first.unsubscribe();
      const again = subscribe('contract/again');
      await again.untilSubscribed();
      await fixture.deliver('contract/again', 'once');
      await fixture.deliver('contract/again', 'twice');
      await again.untilReceived('contract/again', 2);
      expect(again.kinds()).toEqual(['subscribed', 'message', 'message']);
      expect(again.payloads()).toEqual(['once', 'twice']);
      expect(first.kinds()).toEqual(['subscribed']);
    });

    it(`${name} - two subscriptions of one filter: ending one keeps the other delivering`, async () => {
      const first = subscribe('contract/shared');
      const second = subscribe('contract/shared');
      await first.untilSubscribed();
      await second.untilSubscribed();
      first.unsubscribe();
      const sentinel = subscribe('contract/sentinel');
      await sentinel.untilSubscribed();
      await fixture.deliver('contract/shared', 'after');
      await second.untilReceived('contract/shared');
      expect(second.kinds()).toEqual(['subscribed', 'message']);
      expect(first.kinds()).toEqual(['subscribed']);
    });

    it(`${name} - publish emits once and completes`, async () => {
      const notifications = await lastValueFrom(fixture.port.publish('contract/publish', 'hello').pipe(materialize(), toArray()));
      expect(notifications.map((n) => n.kind)).toEqual(['N', 'C']);
    });

    it(`${name} - two subscriptions to different filters are independent`, async () => {
      const a = subscribe('contract/a');
      const b = subscribe('contract/b');
      await a.untilSubscribed();
      await b.untilSubscribed();
      await fixture.deliver('contract/a', 'a1');
      await fixture.deliver('contract/b', 'b1');
      await a.untilReceived('contract/a');
      await b.untilReceived('contract/b');
      a.unsubscribe();
      await fixture.deliver('contract/a', 'a2');
      await fixture.deliver('contract/b', 'b2');
      await b.untilReceived('contract/b', 2);
      expect(a.kinds()).toEqual(['subscribed', 'message']);
      expect(a.payloads()).toEqual(['a1']);
      expect(b.kinds()).toEqual(['subscribed', 'message', 'message']);
      expect(b.payloads()).toEqual(['b1', 'b2']);
    });

    // aws-crt hands a zero-length payload over as a detached ArrayBuffer: copying it threw inside aws-crt's
    // native callback, which aborted the process (MQTT 3.1.1) instead of passing the message on.
    it(`${name} - a message with an empty payload comes as zero bytes, and the next one after it`, async () => {
      const sub = subscribe('contract/empty');
      await sub.untilSubscribed();
      await fixture.deliver('contract/empty', '');
      await fixture.deliver('contract/empty', 'after');
      await sub.untilReceived('contract/empty', 2);
      expect(sub.payloads()).toEqual(['', 'after']);
    });
  });
};
