import type { mqtt5 } from 'aws-iot-device-sdk-v2';
import { TransportError } from '../errors';
import { errorMessage } from '../util/error-message';
import type { MqttClientPort } from './mqtt-port';
import { onePortPerClient, sessionPort, unacknowledgedPublishes } from './session-port';

/** An aws-crt MQTT 5 client, as `new mqtt5.Mqtt5Client(config)` makes it. */
export type AwsCrtMqtt5Client = mqtt5.Mqtt5Client;

// aws-crt's QoS.AtLeastOnce, written out: the enum is a runtime value, and this file loads nothing of aws-crt.
// eslint-disable-next-line @typescript-eslint/no-unsafe-enum-assignment -- the MQTT value the enum names
const atLeastOnce: mqtt5.QoS.AtLeastOnce = 1;
// MQTT 5 reason codes of 0x80 and above are failures (SUBACK, PUBACK).
const isFailure = (reasonCode: number): boolean => reasonCode >= 0x80;

const stoppedReason = 'the aws-crt MQTT 5 client is stopped; call start()';

const encoder = new TextEncoder();

/** A received payload as bytes (aws-crt gives an ArrayBuffer). */
const bytesOf = (payload: mqtt5.Payload | undefined): Uint8Array => {
  if (payload === undefined) return new Uint8Array();
  if (payload instanceof ArrayBuffer) return new Uint8Array(payload);
  if (ArrayBuffer.isView(payload)) return new Uint8Array(payload.buffer, payload.byteOffset, payload.byteLength);
  return encoder.encode(typeof payload === 'string' ? payload : JSON.stringify(payload));
};

const adapt = (client: AwsCrtMqtt5Client): MqttClientPort => {
  // stop() was called: aws-crt holds every call until start(), so they are refused meanwhile.
  let stopped = false;
  // Counts disconnections: a call that fails after one since it was made was lost with the connection.
  let disconnections = 0;
  // PUBLISHes not acknowledged yet, each with how to end it; those left at stop() are failed.
  const unacknowledged = unacknowledgedPublishes();
  const session = sessionPort({
    subscribe: (filter, done) => {
      const sentDuring = disconnections;
      client.subscribe({ subscriptions: [{ topicFilter: filter, qos: atLeastOnce }] }).then(
        (suback) => {
          const code = suback.reasonCodes[0] ?? 0x80;
          if (isFailure(code)) done({ kind: 'refused', error: new TransportError(`subscribe ${filter}: the broker refused the filter (reason code ${code})`, { reasonCode: code }) });
          else done({ kind: 'granted' });
        },
        (error: unknown) => {
          if (disconnections !== sentDuring && !stopped) done({ kind: 'lost' });
          else done({ kind: 'refused', error: new TransportError(`subscribe ${filter}: ${errorMessage(error)}`, { cause: error }) });
        },
      );
    },
    unsubscribe: (filter, done) => {
      if (stopped) {
        done();
        return;
      }
      client.unsubscribe({ topicFilters: [filter] }).then(done, done);
    },
    publish: (topic, payload, done) => {
      const sentDuring = disconnections;
      const settle = unacknowledged.track(done);
      client.publish({ topicName: topic, payload, qos: atLeastOnce }).then(
        (puback) => {
          const code = puback?.reasonCode ?? 0;
          if (isFailure(code)) settle({ kind: 'failed', error: new TransportError(`publish ${topic}: the broker refused it (reason code ${code})`, { reasonCode: code }) });
          else settle({ kind: 'acknowledged' });
        },
        (error: unknown) => {
          if (disconnections !== sentDuring && !stopped) settle({ kind: 'lost' });
          else settle({ kind: 'failed', error: new TransportError(`publish ${topic}: ${errorMessage(error)}`, { cause: error }) });
        },
      );
    },
    refusal: (what) => (stopped ? new TransportError(`${what}: ${stoppedReason}`) : undefined),
  });

  client.on('messageReceived', ({ message }) => {
    session.message(message.topicName, bytesOf(message.payload));
  });
  client.on('disconnection', () => {
    disconnections += 1;
    session.dropped();
  });
  client.on('connectionSuccess', ({ connack }) => {
    session.connected(connack.sessionPresent);
  });
  client.on('attemptingConnect', () => {
    stopped = false;
  });
  client.on('stopped', () => {
    stopped = true;
    session.dropped(stoppedReason);
    session.ended();
    unacknowledged.failAll(stoppedReason);
  });
  return session.port;
};

/**
 * Adapts an aws-crt MQTT 5 client (started, or to be started) to the {@link MqttClientPort} that
 * `mqttTransport()` takes; the same port for the same client. aws-crt reconnects by itself but does not
 * subscribe again on a new session: the port does, and each filter follows the session as with mqtt.js. After
 * `client.stop()` every subscription fails and calls are refused with TransportError, until `client.start()`.
 */
export const fromAwsCrtMqtt5Client: (client: AwsCrtMqtt5Client) => MqttClientPort = onePortPerClient('aws-crt-mqtt5', adapt);
