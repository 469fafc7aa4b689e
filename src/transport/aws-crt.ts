/**
 * iot-jobs-rx/aws-crt: the Jobs client over an aws-iot-device-sdk-v2 (aws-crt) MQTT 3.1.1 connection, for apps
 * that already have one. Only types come from the SDK: this entry loads no native code of its own.
 * @example
 * import { mqtt, iot } from 'aws-iot-device-sdk-v2';
 * import { createJobsClient, mqttTransport } from 'iot-jobs-rx';
 * import { fromAwsCrtConnection } from 'iot-jobs-rx/aws-crt';
 *
 * const config = iot.AwsIotMqttConnectionConfigBuilder.new_mtls_builder_from_path(certPath, keyPath)
 *   .with_endpoint(endpoint).with_client_id('thing-A').with_clean_session(true).build();
 * const connection = new mqtt.MqttClient().new_connection(config);
 * await connection.connect();
 * const jobs = createJobsClient({ thingName: 'thing-A', transport: mqttTransport(fromAwsCrtConnection(connection)) });
 */
import type { mqtt } from 'aws-iot-device-sdk-v2';
import { TransportError } from '../errors';
import { errorMessage } from '../util/error-message';
import type { MqttClientPort } from './mqtt-port';
import { onePortPerClient, sessionPort } from './session-port';

/** An aws-crt MQTT 3.1.1 connection, as `new mqtt.MqttClient().new_connection(config)` makes it. */
export type AwsCrtConnection = mqtt.MqttClientConnection;

// aws-crt's QoS.AtLeastOnce, written out: the enum is a runtime value, and this file loads nothing of aws-crt.
// eslint-disable-next-line @typescript-eslint/no-unsafe-enum-assignment -- the MQTT value the enum names
const atLeastOnce: mqtt.QoS.AtLeastOnce = 1;
// A SUBACK's return code for a refused filter (MQTT 3.1.1 §3.9.3); aws-crt gives it as the granted `qos`.
const refusedQos = 128;

/**
 * Whether aws-crt failed a call with the error `name`: a CrtError carries it as `error_name`; a SUBSCRIBE or
 * PUBLISH is rejected with a string that names it (`Failed to subscribe: libaws-c-mqtt: <name>, ...`).
 */
const isCrtError = (error: unknown, name: string): boolean => {
  const named: unknown = typeof error === 'object' && error !== null && 'error_name' in error ? error.error_name : undefined;
  return named === name || errorMessage(error).includes(name);
};

/**
 * A received payload as bytes. aws-crt gives an empty one as a detached ArrayBuffer, which cannot be viewed; and
 * anything thrown in its callback is thrown inside aws-crt's native code, which aborts the process.
 */
const bytesOf = (payload: ArrayBuffer): Uint8Array => (payload.byteLength === 0 ? new Uint8Array() : new Uint8Array(payload));

const closedReason = 'the aws-crt connection was closed (disconnect()), and cannot be used again';

const adapt = (connection: AwsCrtConnection): MqttClientPort => {
  // disconnect() was called: aws-crt freed the connection, and rejects every call from now on.
  let closed = false;
  // Counts interruptions. On a new session aws-crt cancels what it had not completed, and the cancellation can
  // come before or after the resume: a call that failed after an interruption since it was made was lost.
  let interruptions = 0;
  // A connect() of this connection failed: aws-crt has stopped emitting `message`, and messages come through the
  // subscriptions' callbacks instead.
  let anyPublishStopped = false;
  // A call that failed after an interruption since it was made, or that aws-crt cancelled with a session (it
  // does so, without an interruption, for the calls it held when a connect() failed), was lost, not refused.
  const lostWith = (sentDuring: number, error: unknown): boolean =>
    !closed && (interruptions !== sentDuring || isCrtError(error, 'AWS_ERROR_MQTT_CANCELLED_FOR_CLEAN_SESSION'));
  const session = sessionPort({
    subscribe: (filter, done) => {
      const sentDuring = interruptions;
      // The subscription's own callback carries its messages only once `message` has stopped (see below): while it
      // works aws-crt calls both, and only `message` matches a filter's parent level (`a/#` for `a`).
      connection.subscribe(filter, atLeastOnce, (topic, payload) => {
        if (anyPublishStopped) session.messageOn(filter, topic, bytesOf(payload));
      }).then(
        (suback) => {
          // Typed as a QoS, but a refusal reads 128 here.
          const granted: number = suback.qos;
          if (granted === refusedQos) done({ kind: 'refused', error: new TransportError(`subscribe ${filter}: the broker refused the filter`, { reasonCode: refusedQos }) });
          else if (suback.error_code !== undefined && suback.error_code !== 0) done({ kind: 'refused', error: new TransportError(`subscribe ${filter}: aws-crt error ${suback.error_code}`) });
          else done({ kind: 'granted' });
        },
        (error: unknown) => {
          if (lostWith(sentDuring, error)) done({ kind: 'lost' });
          else done({ kind: 'refused', error: new TransportError(`subscribe ${filter}: ${errorMessage(error)}`, { cause: error }) });
        },
      );
    },
    unsubscribe: (filter, done) => {
      if (closed) {
        done();
        return;
      }
      // Settled either way: a failed UNSUBSCRIBE leaves nothing for a later SUBSCRIBE to wait for.
      connection.unsubscribe(filter).then(done, done);
    },
    publish: (topic, payload, done) => {
      const sentDuring = interruptions;
      connection.publish(topic, payload, atLeastOnce).then(
        () => {
          done({ kind: 'acknowledged' });
        },
        (error: unknown) => {
          // Cancelled with a session that did not survive: the transport sends it again, or fails it, by operation.
          if (lostWith(sentDuring, error)) done({ kind: 'lost' });
          else done({ kind: 'failed', error: new TransportError(`publish ${topic}: ${errorMessage(error)}`, { cause: error }) });
        },
      );
    },
    refusal: (what) => (closed ? new TransportError(`${what}: ${closedReason}`) : undefined),
  });

  connection.on('message', (topic, payload) => {
    if (!anyPublishStopped) session.message(topic, bytesOf(payload));
  });
  // A connect() that failed: aws-crt does not retry it, and cancels what it held (see `lostWith`); the filters
  // lapse until the app's next connect() succeeds. From then on aws-crt no longer emits `message` for the
  // connection (aws-crt 1.33.1; per-subscription callbacks still come).
  connection.on('connection_failure', () => {
    anyPublishStopped = true;
    interruptions += 1;
    session.dropped();
  });
  connection.on('interrupt', () => {
    interruptions += 1;
    session.dropped();
  });
  connection.on('connect', (sessionPresent) => {
    session.connected(sessionPresent);
  });
  connection.on('resume', (_returnCode, sessionPresent) => {
    session.connected(sessionPresent);
  });
  const onClosed = (): void => {
    if (closed) return;
    closed = true;
    session.dropped(closedReason);
    session.ended();
  };
  connection.on('closed', onClosed);
  connection.on('disconnect', onClosed);
  return session.port;
};

/**
 * Adapts an aws-crt MQTT 3.1.1 connection whose `connect()` was called to the {@link MqttClientPort} that
 * `mqttTransport()` takes; the same port for the same connection. aws-crt reconnects by itself but does not
 * subscribe again on a new session: the port does, and each filter follows the session as with mqtt.js
 * (`lapsed` at an interruption, `subscribed` again at the SUBACK, or at once when the session was resumed).
 * After `connection.disconnect()` every subscription fails, and requests are refused, with TransportError.
 */
export const fromAwsCrtConnection: (connection: AwsCrtConnection) => MqttClientPort = onePortPerClient('aws-crt', adapt);
