// Found in review of 59b793d (a drop with reconnecting off fails streams and requests): four ways a client
// whose connection is gone could still leave a stream silent or a graceful end() waiting for ever.
import type { MqttClient, Packet } from 'mqtt';
import { firstValueFrom } from 'rxjs';
import { TransportError, connectMqtt, createJobsClient, mqttTransport } from '../../src';
import { startEmulator, type Emulator } from '../../src/emulator';
import { startAuthBroker } from '../helpers/broker-auth';

/** Resolves at the next packet of `cmd` the client sends or receives. */
const nextPacket = (client: MqttClient, cmd: Packet['cmd'], direction: 'packetsend' | 'packetreceive'): Promise<void> =>
  new Promise((resolve) => {
    const onPacket = (packet: Packet): void => {
      if (packet.cmd !== cmd) return;
      client.removeListener(direction, onPacket);
      resolve();
    };
    client.on(direction, onPacket);
  });

/** `promise`'s value, or 'timed out' after `ms`. */
const within = <T>(promise: Promise<T>, ms: number): Promise<T | 'timed out'> =>
  Promise.race([promise, new Promise<'timed out'>((resolve) => setTimeout(() => { resolve('timed out'); }, ms).unref())]);

/** The packets mqtt.js still waits an acknowledgement for (`outgoing` is not in its typings). */
const outgoingOf = (client: MqttClient): string[] => {
  const outgoing: unknown = Reflect.get(client, 'outgoing');
  if (typeof outgoing !== 'object' || outgoing === null) return [];
  return Object.values(outgoing).map((entry: unknown) => (typeof entry === 'object' && entry !== null && 'cmd' in entry ? String(entry.cmd) : '?'));
};

let emu: Emulator;
beforeAll(async () => {
  emu = await startEmulator({ host: '127.0.0.1', mqttPort: 0, dataPort: 0, controlPort: 0 });
});
afterAll(async () => {
  await emu.close();
});

describe('a connection gone for good', () => {
  it('mqtt transport - after a drop with reconnecting off, a graceful end() completes: no UNSUBSCRIBE is left outgoing', async () => {
    const client = await connectMqtt({ url: emu.mqttUrl, clientId: 'thing-A', reconnectPeriodMs: 0 });
    try {
      const jobs = createJobsClient({ thingName: 'thing-A', transport: mqttTransport(client), timeoutMs: 5000 });
      const granted = nextPacket(client, 'suback', 'packetreceive');
      const event = firstValueFrom(jobs.nextJobExecutionChanged()).catch((e: unknown) => e);
      await granted;
      client.stream.destroy();
      expect(await event).toBeInstanceOf(TransportError);
      const outcome = await within(client.endAsync().then(() => 'ended'), 3000);
      expect({ outcome, outgoing: outgoingOf(client) }).toEqual({ outcome: 'ended', outgoing: [] });
    } finally {
      await client.endAsync(true);
    }
  });

  it('mqtt transport - made after a drop with reconnecting off: an event stream and a request fail at once with TransportError', async () => {
    const client = await connectMqtt({ url: emu.mqttUrl, clientId: 'thing-A', reconnectPeriodMs: 0 });
    try {
      const closed = new Promise<void>((resolve) => client.once('close', () => { resolve(); }));
      client.stream.destroy();
      await closed;
      const jobs = createJobsClient({ thingName: 'thing-A', transport: mqttTransport(client), timeoutMs: 3000 });
      const started = performance.now();
      const event = await within(firstValueFrom(jobs.nextJobExecutionChanged()).catch((e: unknown) => e), 4000);
      const request = await firstValueFrom(jobs.getPendingJobExecutions()).catch((e: unknown) => e);
      expect({ event, request }).toEqual({ event: expect.any(TransportError), request: expect.any(TransportError) });
      expect(performance.now() - started).toBeLessThan(1000);
    } finally {
      await client.endAsync(true);
    }
  });

  it('mqtt transport - a plain mqtt.js client whose reconnect the broker refuses: the event stream fails instead of staying silent', async () => {
    let allow = true;
    const broker = await startAuthBroker({
      aedes: {
        authenticate: (_client, _user, _password, done) => {
          if (allow) done(null, true);
          else done(Object.assign(new Error('not authorized'), { returnCode: 5 }), false);
        },
      },
    });
    // As an app builds it: mqtt.js stops reconnecting after a refused CONNACK (no reconnectOnConnackError).
    const { default: mqtt } = await import('mqtt');
    const client = await mqtt.connectAsync(broker.url, { clientId: 'thing-A', reconnectPeriod: 100 });
    client.on('error', () => undefined);
    try {
      const jobs = createJobsClient({ thingName: 'thing-A', transport: mqttTransport(client), timeoutMs: 2000 });
      const granted = nextPacket(client, 'suback', 'packetreceive');
      const event = firstValueFrom(jobs.nextJobExecutionChanged()).catch((e: unknown) => e);
      await granted;
      allow = false;
      broker.dropClients();
      expect(await within(event, 3000)).toBeInstanceOf(TransportError);
    } finally {
      await client.endAsync(true);
      await broker.close();
    }
  });

  it('mqtt transport - a drop while an UNSUBSCRIBE is in flight and a SUBSCRIBE of the same filter waits for it: after the reconnect, end() completes', async () => {
    const client = await connectMqtt({ url: emu.mqttUrl, clientId: 'thing-A', reconnectPeriodMs: 100 });
    try {
      const jobs = createJobsClient({ thingName: 'thing-A', transport: mqttTransport(client, { lingerMs: 0 }), timeoutMs: 3000 });
      const granted = nextPacket(client, 'suback', 'packetreceive');
      const first = jobs.nextJobExecutionChanged().subscribe({ error: () => undefined });
      await granted;
      const unsubscribeSent = nextPacket(client, 'unsubscribe', 'packetsend');
      first.unsubscribe(); // lingerMs 0: the UNSUBSCRIBE goes now
      await unsubscribeSent;
      const second = jobs.nextJobExecutionChanged().subscribe({ error: () => undefined }); // waits for the UNSUBACK
      const reconnected = new Promise<void>((resolve) => client.once('connect', () => { resolve(); }));
      client.stream.destroy(); // before the UNSUBACK
      await reconnected;
      await expect(firstValueFrom(jobs.getPendingJobExecutions())).resolves.toMatchObject({ queuedJobs: [] });
      second.unsubscribe();
      // The SUBSCRIBE is not left on the dead socket: nothing outgoing stays unanswered, and end() finishes.
      await new Promise((resolve) => setTimeout(resolve, 300));
      const pending = outgoingOf(client);
      const ended = await within(client.endAsync().then(() => 'ended'), 3000);
      expect({ pending, ended }).toEqual({ pending: [], ended: 'ended' });
    } finally {
      await client.endAsync(true);
    }
  });
});
