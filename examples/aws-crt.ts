/**
 * describe.ts over an aws-iot-device-sdk-v2 (aws-crt) MQTT 3.1.1 connection instead of mqtt.js, for apps that
 * already hold one:
 *   npx tsx examples/aws-crt.ts mqtt://127.0.0.1:1883 thing-A [jobId]
 *   IOT_JOBS_CERT=thing.crt IOT_JOBS_KEY=thing.key [IOT_JOBS_CA=ca.pem] \
 *     npx tsx examples/aws-crt.ts mqtts://xxx-ats.iot.eu-west-1.amazonaws.com thing-A
 * aws-crt ships no binary for a 32-bit Raspberry Pi, and cannot set TCP_NODELAY (each round trip waits
 * ~40 ms); examples/describe.ts (mqtt.js) has neither limit.
 */
import { io, iot, mqtt } from 'aws-iot-device-sdk-v2';
import { createJobsClient, isJobsError, isThingName, mqttTransport } from '../src';
import { fromAwsCrtConnection, type AwsCrtConnection } from '../src/transport/aws-crt';
import { printJobs } from './describe';

/** A connection as aws-crt's samples build it: mutual TLS for mqtts://, plain TCP (e.g. the emulator) for mqtt://. */
const connect = (url: URL, thingName: string): AwsCrtConnection => {
  const port = url.port === '' ? (url.protocol === 'mqtts:' ? 8883 : 1883) : Number(url.port);
  if (url.protocol === 'mqtt:') {
    return new mqtt.MqttClient().new_connection({ client_id: thingName, host_name: url.hostname, port, clean_session: true, keep_alive: 60, socket_options: new io.SocketOptions() });
  }
  const cert = process.env.IOT_JOBS_CERT;
  const key = process.env.IOT_JOBS_KEY;
  if (url.protocol !== 'mqtts:' || cert === undefined || key === undefined) throw new Error('mqtts:// needs IOT_JOBS_CERT and IOT_JOBS_KEY (PEM file paths); or use mqtt://');
  const builder = iot.AwsIotMqttConnectionConfigBuilder.new_mtls_builder_from_path(cert, key).with_endpoint(url.hostname).with_port(port).with_client_id(thingName).with_clean_session(true);
  const ca = process.env.IOT_JOBS_CA;
  if (ca !== undefined) builder.with_certificate_authority_from_path(undefined, ca);
  return new mqtt.MqttClient().new_connection(builder.build());
};

export const describeOverAwsCrt = async (url: URL, thingName: string, jobId?: string): Promise<void> => {
  const connection = connect(url, thingName);
  await connection.connect();
  try {
    await printJobs(createJobsClient({ thingName, transport: mqttTransport(fromAwsCrtConnection(connection)) }), jobId);
  } finally {
    await connection.disconnect();
  }
};

if (require.main === module) {
  const [url, thingName, jobId] = process.argv.slice(2);
  if (url === undefined || thingName === undefined || !URL.canParse(url) || !isThingName(thingName)) {
    console.error(thingName !== undefined && !isThingName(thingName) ? `invalid thing name ${JSON.stringify(thingName)}: 1-128 of [a-zA-Z0-9:_-]` : 'usage: examples/aws-crt.ts <mqtt://host:port | mqtts://host:port> <thingName> [jobId]');
    process.exit(2);
  }
  describeOverAwsCrt(new URL(url), thingName, jobId).catch((error: unknown) => {
    console.error(isJobsError(error) ? `${error.name}: ${error.message}` : error);
    process.exitCode = 1;
  });
}
