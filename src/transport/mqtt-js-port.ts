import { Writable } from 'node:stream';
import type { IConnackPacket, ISubscriptionMap, MqttClient } from 'mqtt';
import { TransportError } from '../errors';
import type { MqttClientPort } from './mqtt-port';
import { onePortPerClient, sessionPort, type PublishOutcome } from './session-port';

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

const closedReason = 'the connection closed and the MQTT client will not reconnect by itself (reconnectPeriod 0, or the broker refused the reconnect); call reconnect()';

/**
 * Whether mqtt.js has a reconnect armed. Read after its own 'close' listener: `reconnecting` cannot tell, as it
 * stays true after a reconnect the broker refused (mqtt.js then stops trying, unless `reconnectOnConnackError`).
 * `reconnectTimer` is not in mqtt.js's typings; the tests pin what it means here.
 */
const reconnectArmed = (client: MqttClient): boolean => {
  const timer: unknown = Reflect.get(client, 'reconnectTimer');
  return timer !== null && timer !== undefined;
};

/** The client's socket is gone (destroyed at a drop or end); absent before a manual connect(). */
const streamDestroyed = (client: MqttClient): boolean => {
  const stream: unknown = client.stream;
  return typeof stream === 'object' && stream !== null && 'destroyed' in stream && stream.destroyed === true;
};

/** The connection is down and nothing will open it again until the app calls reconnect() (or end()). */
const closedForGood = (client: MqttClient): boolean => !client.connected && !client.disconnecting && !client.disconnected && streamDestroyed(client) && !reconnectArmed(client);

/**
 * Hands what mqtt-packet has corked to the socket now. mqtt-packet uncorks on the next tick, after everything
 * else the current tick and its microtasks do (for a request: its deadline timer, the caller's promise, the
 * caller's own code), so a PUBLISH would leave only then.
 */
const flush = (client: MqttClient): void => {
  const stream: unknown = client.stream;
  if (!(stream instanceof Writable)) return;
  while (stream.writableCorked > 0) stream.uncork();
};

const adapt = (client: MqttClient): MqttClientPort => {
  // PUBLISHes not acknowledged yet, each with how to end it. One alone is flushed at once: its caller waits for
  // the round trip, and the rest of its tick then runs while the broker works (docs/benchmarks.md). With others
  // in flight, the tick's PUBLISHes leave together, in one write, as mqtt-packet batches them. mqtt.js never
  // calls back one it held at end(true) with reconnecting on, nor at a drop it will not reconnect from: those
  // are failed here.
  const unacknowledged = new Set<(outcome: PublishOutcome) => void>();
  const failUnacknowledged = (why: string): void => {
    for (const settle of [...unacknowledged]) settle({ kind: 'failed', error: new TransportError(`publish: ${why}`) });
  };
  // `closed`: the connection dropped and nothing will open it again: mqtt.js does not reconnect by itself
  // (reconnectPeriod 0, or a refused CONNACK) and end() was not called, so `disconnected` stays false. Until the
  // app calls reconnect(), a SUBSCRIBE or PUBLISH would wait offline for ever. A port made after such a drop
  // starts closed.
  let closed = closedForGood(client);
  const session = sessionPort({
    subscribe: (filter, done) => {
      // A SUBSCRIBE released by a failed UNSUBSCRIBE while mqtt.js cleans up a drop (before its 'close') would
      // be written to the dead socket and never answered: it goes on the next connection instead.
      if (streamDestroyed(client) && !client.disconnecting && !client.disconnected) {
        done({ kind: 'lost' });
        return;
      }
      // `resubscribe` makes mqtt.js send the SUBSCRIBE even for a filter it already holds (it would call back at
      // once, with no SUBACK): after a reconnect its own resubscription may not be granted yet.
      const subscription: ISubscriptionMap = { [filter]: { qos: 1 } };
      subscription.resubscribe = true;
      client.subscribe(subscription, (error) => {
        if (!error) done({ kind: 'granted' });
        // mqtt.js fails a SUBSCRIBE still waiting for its SUBACK when the connection drops, and reconnects.
        else if (reasonCodeOf(error) === undefined && !client.connected && !client.disconnecting) done({ kind: 'lost' });
        else done({ kind: 'refused', error: toTransportError(`subscribe ${filter}`, error) });
      });
    },
    unsubscribe: (filter, done) => {
      // An UNSUBSCRIBE that cannot be sent (client ended) has nothing left to undo.
      if (client.disconnecting || client.disconnected) done();
      else
        client.unsubscribe(filter, () => {
          done();
        });
    },
    publish: (topic, payload, done) => {
      // Once: a late callback from mqtt.js after the port failed it is ignored.
      const settle = (outcome: PublishOutcome): void => {
        if (!unacknowledged.delete(settle)) return;
        done(outcome);
      };
      unacknowledged.add(settle);
      client.publish(topic, payload, { qos: 1 }, (error) => {
        settle(error ? { kind: 'failed', error: toTransportError(`publish ${topic}`, error) } : { kind: 'acknowledged' });
      });
      if (unacknowledged.size === 1) flush(client);
    },
    // `disconnected`: end() has finished, and neither connect() nor reconnect() has run since (a drop does not
    // set it; while end() runs, mqtt.js refuses calls itself). With reconnecting off, mqtt.js would then queue a
    // SUBSCRIBE or PUBLISH offline for ever, never calling back.
    refusal: (what) => (client.disconnected ? new TransportError(`${what}: the MQTT client has ended`) : closed ? new TransportError(`${what}: ${closedReason}`) : undefined),
  });

  // One set of listeners for the port, whatever the number of filters and transports.
  client.on('message', (topic, payload) => {
    session.message(topic, payload);
  });
  // The session is gone: until the broker holds the filter again, a reply could be lost. mqtt.js's own 'close'
  // listener, added when the client was made, has already chosen whether to reconnect.
  client.on('close', () => {
    closed = closedForGood(client);
    session.dropped(closed ? closedReason : undefined);
    if (closed) failUnacknowledged(closedReason);
  });
  client.on('reconnect', () => {
    closed = false;
  });
  // A resumed session (clean: false) still holds a filter granted on it. A new one does not: mqtt.js subscribes
  // again itself, but only after it has re-sent the PUBLISHes it kept and without telling its SUBACK, so the
  // port sends its own SUBSCRIBE.
  client.on('connect', (connack: IConnackPacket) => {
    closed = false;
    session.connected(connack.sessionPresent);
  });
  // The transport fails its requests in flight first, with its own account of the end.
  client.on('end', () => {
    session.ended();
    failUnacknowledged('the MQTT client has ended');
  });
  return session.port;
};

/**
 * Adapts a connected (or connecting) mqtt.js client; the same port for the same client. Subscriptions of one
 * filter share one SUBSCRIBE, and the UNSUBSCRIBE goes when the last one ends. Reconnecting stays with
 * mqtt.js; each filter follows the session: `lapsed` when the connection drops (before `connection$` says
 * `down`), then `subscribed` again: with `resumed: true` at once when the resumed session still holds it, else
 * at the SUBACK of the port's own SUBSCRIBE.
 */
export const fromMqttClient: (client: MqttClient) => MqttClientPort = onePortPerClient('mqtt.js', adapt);
