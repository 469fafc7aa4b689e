import { connectMqtt, mqttTransport } from '../../src';
import { httpsTransport } from '../../src/transport/https';
import { jobsTransportContract } from './jobs-transport.contract';

jobsTransportContract('mqtt', async (emu) => {
  const client = await connectMqtt({ url: emu.mqttUrl, clientId: 'thing-A' });
  return { transport: mqttTransport(client, { lingerMs: 0 }), settleMs: 60, close: () => client.endAsync(true) };
});

jobsTransportContract('https', (emu) =>
  Promise.resolve({
    transport: httpsTransport({ endpoint: emu.dataEndpoint, region: 'us-east-1', credentials: emu.credentials, pollIntervalMs: 25 }),
    settleMs: 150,
    close: () => Promise.resolve(),
  }),
);
