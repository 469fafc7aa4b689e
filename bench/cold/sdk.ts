// Cold start of aws-iot-device-sdk-v2's IotJobsClientv2 (aws-crt, MQTT 3.1.1) against the same broker.
// require → connect → one describeJobExecution → print one JSON line → close → exit by itself.
import { createRequire } from 'node:module';
import { args, fail, guard, report } from './report';

const tStart = performance.now();
const { url, thingName, jobId } = args();
const timer = guard();

const { mqtt, io, iotjobs } = createRequire(__filename)('aws-iot-device-sdk-v2') as typeof import('aws-iot-device-sdk-v2');
const tRequired = performance.now();

const main = async (): Promise<void> => {
  const { hostname, port } = new URL(url);
  const connection = new mqtt.MqttClient().new_connection({
    client_id: `${thingName}-${process.pid}`,
    host_name: hostname,
    port: Number(port),
    clean_session: true,
    keep_alive: 30,
    socket_options: new io.SocketOptions(),
  });
  await connection.connect();
  const tConnected = performance.now();
  const jobs = iotjobs.IotJobsClientv2.newFromMqtt311(connection, {
    maxRequestResponseSubscriptions: 4,
    maxStreamingSubscriptions: 2,
    operationTimeoutInSeconds: 10,
  });
  const reply = await jobs.describeJobExecution({ thingName, jobId });
  const tReply = performance.now();
  const { rss, heapUsed } = process.memoryUsage();
  if (reply.execution?.jobId !== jobId) throw new Error(`unexpected reply ${JSON.stringify(reply)}`);
  const times = { requireMs: tRequired - tStart, connectMs: tConnected - tRequired, describeMs: tReply - tConnected };
  report({ client: 'sdk', startMs: tStart, ...times, firstReplyMs: tReply, rss, heapUsed });
  jobs.close();
  await connection.disconnect();
  clearTimeout(timer);
};

main().catch(fail);
