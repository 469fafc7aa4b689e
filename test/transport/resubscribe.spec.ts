import { firstValueFrom } from 'rxjs';
import mqtt from 'mqtt';
import { connectMqtt, createJobsClient, mqttTransport } from '../../src';
import { clientTokenOf } from '../../src/testing';
import { startAuthBroker, type AuthBroker } from '../helpers/broker-auth';

/**
 * mqtt.js fails a SUBSCRIBE still waiting for its SUBACK when the connection drops ('Connection closed').
 * A read waiting for that SUBACK must survive the blip: subscribe again once reconnected, then publish.
 */
describe('mqtt port - a SUBSCRIBE lost to a dropped connection', () => {
  let broker: AuthBroker;
  afterEach(async () => {
    await broker.close();
  });

  it('mqtt port - a read whose SUBACK was pending when the connection dropped is answered after the reconnect', async () => {
    let held = 0;
    broker = await startAuthBroker({
      aedes: {
        authorizeSubscribe: (client, subscription, callback) => {
          // Hold the first SUBSCRIBE of the device for ever, and drop its connection meanwhile.
          if (client.id === 'thing-A' && subscription.topic.endsWith('/get/+') && held === 0) {
            held += 1;
            setTimeout(() => broker.dropClients(), 50);
            return;
          }
          callback(null, subscription);
        },
      },
    });
    // The stand-in service is dropped too; it comes back (and resubscribes) before the device does.
    const service = await mqtt.connectAsync(broker.url, { clientId: 'service', reconnectPeriod: 20 });
    await service.subscribeAsync('$aws/things/thing-A/jobs/+/get');
    service.on('message', (topic, payload) => {
      const token = clientTokenOf(payload.toString());
      service.publish(`${topic}/accepted`, JSON.stringify({ clientToken: token, timestamp: 1 }), { qos: 1 });
    });
    const client = await connectMqtt({ url: broker.url, clientId: 'thing-A', reconnectPeriodMs: 100 });
    try {
      const jobs = createJobsClient({ thingName: 'thing-A', transport: mqttTransport(client), timeoutMs: 5000 });
      await expect(firstValueFrom(jobs.describeJobExecution({ jobId: 'job-1' }))).resolves.toMatchObject({ timestamp: new Date(1000) });
      expect(held).toBe(1);
    } finally {
      await client.endAsync(true);
      await service.endAsync(true);
    }
  });
});
