// Cold start of a plain mqtt.js client doing the same exchange by hand (reference; no validation):
// require('mqtt') → mqtt.connect (TCP_NODELAY set on connect) → SUBSCRIBE the reply filter → PUBLISH
// {clientToken} → first correlated reply → print one JSON line → end → exit by itself.
import { createRequire } from 'node:module';
import { args, fail, guard, report } from './report';

const tStart = performance.now();
const { url, thingName, jobId } = args();
const timer = guard();

const mqtt = createRequire(__filename)('mqtt') as typeof import('mqtt');
const tRequired = performance.now();

const client = mqtt.connect(url, { clientId: `${thingName}-${process.pid}`, reconnectPeriod: 0 });
client.on('error', fail);
client.once('connect', () => {
  (client.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
  const tConnected = performance.now();
  const clientToken = `cold-${process.pid}`;
  client.on('message', (topic, payload) => {
    const body = JSON.parse(payload.toString()) as { clientToken?: unknown; execution?: { jobId?: unknown } };
    if (body.clientToken !== clientToken) return;
    const tReply = performance.now();
    const { rss, heapUsed } = process.memoryUsage();
    if (!topic.endsWith('/accepted') || body.execution?.jobId !== jobId) fail(new Error(`unexpected reply on ${topic}`));
    const times = { requireMs: tRequired - tStart, connectMs: tConnected - tRequired, describeMs: tReply - tConnected };
    report({ client: 'raw', startMs: tStart, ...times, firstReplyMs: tReply, rss, heapUsed });
    client.end(true, () => {
      clearTimeout(timer);
    });
  });
  client.subscribe(`$aws/things/${thingName}/jobs/+/get/+`, { qos: 1 }, (error) => {
    if (error) fail(error);
    else client.publish(`$aws/things/${thingName}/jobs/${jobId}/get`, JSON.stringify({ clientToken }), { qos: 1 });
  });
});
