import type { MqttClient } from 'mqtt';
import type { Observable } from '../rx';

/**
 * The narrow MQTT seam of the library: what the Jobs transport needs of an MQTT client, and nothing else.
 * The mqtt.js adapter (mqtt-js-port.ts) is, with connect-mqtt.ts, the only code that touches mqtt.js; other
 * clients (aws-crt, a test fake) implement the same interface.
 */

/** An inbound MQTT message. */
export interface MqttMessage {
  /** The topic it was published on. */
  readonly topic: string;
  /** Its payload, as received. */
  readonly payload: Uint8Array;
}

/**
 * What a subscription emits: first `subscribed` (after the SUBACK), then each matching message. A port that
 * follows the session may also emit `lapsed` when the connection drops (the broker may no longer hold the
 * filter), before its `connection$` says `down`, and `subscribed` again once the broker holds it; the
 * transport sends no request of that filter meanwhile, and after a new (not resumed) grant sends again, or
 * fails, those whose reply may have been lost.
 */
export type SubscriptionEvent =
  | {
      readonly kind: 'subscribed';
      /**
       * On a grant after `lapsed`: true when the session survived the drop and still held the filter, so
       * nothing sent meanwhile was lost (the client re-sent its unacknowledged PUBLISHes, the broker kept the
       * replies). Absent or false on a new grant.
       */
      readonly resumed?: boolean;
    }
  | { readonly kind: 'lapsed' }
  | { readonly kind: 'message'; readonly message: MqttMessage };

/**
 * Connection changes the transport reacts to: `down` when the session is lost, `up` when it is back,
 * `end` when the client is closed for good (subscriptions are then released at once, not after a linger).
 */
export type ConnectionState = 'up' | 'down' | 'end';

/** The MQTT operations the Jobs transport uses. */
export interface MqttPort {
  /**
   * Subscribing sends SUBSCRIBE (QoS 1) for `filter`; the Observable emits `subscribed` once the broker
   * grants it, then every message whose topic matches `filter`. Unsubscribing sends UNSUBSCRIBE once no other
   * subscription of the port holds the same filter.
   * Errors with `TransportError` when the broker refuses the filter or the client cannot subscribe.
   */
  subscribe(filter: string): Observable<SubscriptionEvent>;
  /**
   * Publishes at QoS 1; emits once and completes when the broker acknowledges. Completes without emitting when
   * the PUBLISH was lost with a session that did not survive the connection (the transport then sends it
   * again or fails it, by operation). Errors with `TransportError`.
   */
  publish(topic: string, payload: string): Observable<void>;
  /** Connection changes after the port was created; absent when the client cannot report them. */
  readonly connection$?: Observable<ConnectionState>;
}

/** The port of an mqtt.js client ({@link fromMqttClient}): it always reports connection changes. */
export interface MqttClientPort extends MqttPort {
  /** `down` when the connection drops, `up` when mqtt.js has reconnected, `end` when the client ends. */
  readonly connection$: Observable<ConnectionState>;
}

/** True when `client` is an MqttPort rather than an mqtt.js client (which has the `…Async` verbs). */
export const isMqttPort = (client: MqttClient | MqttPort): client is MqttPort =>
  !('subscribeAsync' in client && 'publishAsync' in client);
