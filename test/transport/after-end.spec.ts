// Found in review of the MQTT path (stop 10): with reconnecting off, mqtt.js queues a SUBSCRIBE made after
// end() offline for ever, so a request made then ended only at its deadline, and an event stream never.
import type { MqttClient, Packet } from 'mqtt';
import { firstValueFrom } from 'rxjs';
import { InvalidRequestError, TransportError, connectMqtt, createJobsClient, mqttTransport } from '../../src';
import { startEmulator, type Emulator } from '../../src/emulator';

let emu: Emulator;
beforeAll(async () => {
  emu = await startEmulator({ host: '127.0.0.1', mqttPort: 0, dataPort: 0, controlPort: 0 });
});
afterAll(async () => {
  await emu.close();
});

describe('a client used after end()', () => {
  it.each([5000, 0])('mqtt transport - reconnectPeriodMs %i: a request or an event stream started after end() fails at once with TransportError', async (reconnectPeriodMs) => {
    const client = await connectMqtt({ url: emu.mqttUrl, clientId: 'thing-A', reconnectPeriodMs });
    const jobs = createJobsClient({ thingName: 'thing-A', transport: mqttTransport(client), timeoutMs: 5000 });
    await client.endAsync();
    const started = performance.now();
    const request: unknown = await firstValueFrom(jobs.getPendingJobExecutions()).catch((e: unknown) => e);
    const event: unknown = await firstValueFrom(jobs.nextJobExecutionChanged()).catch((e: unknown) => e);
    expect(request).toBeInstanceOf(TransportError);
    expect(event).toBeInstanceOf(TransportError);
    expect(performance.now() - started).toBeLessThan(1000); // not at the 5 s deadline
  });
});

// Found in review of the first fix (a flag set on 'end'): it refused requests between reconnect() and the
// CONNACK, and during reconnect() of a connected client (mqtt.js ends, then connects again), and missed a
// transport made after the end.
describe('a client that ends and connects again', () => {
  it('mqtt transport - a transport made after end() (reconnectPeriodMs 0) fails at once', async () => {
    const client = await connectMqtt({ url: emu.mqttUrl, clientId: 'thing-A', reconnectPeriodMs: 0 });
    await client.endAsync();
    const jobs = createJobsClient({ thingName: 'thing-A', transport: mqttTransport(client), timeoutMs: 5000 });
    const started = performance.now();
    await expect(firstValueFrom(jobs.getPendingJobExecutions())).rejects.toBeInstanceOf(TransportError);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it.each([0, 5000])('mqtt transport - reconnectPeriodMs %i: end() then reconnect(): a request made at once is served', async (reconnectPeriodMs) => {
    const client = await connectMqtt({ url: emu.mqttUrl, clientId: 'thing-A', reconnectPeriodMs });
    const jobs = createJobsClient({ thingName: 'thing-A', transport: mqttTransport(client), timeoutMs: 3000 });
    await firstValueFrom(jobs.getPendingJobExecutions());
    await client.endAsync();
    client.reconnect();
    try {
      await expect(firstValueFrom(jobs.getPendingJobExecutions())).resolves.toMatchObject({ queuedJobs: [] });
    } finally {
      await client.endAsync(true);
    }
  });

  it('mqtt transport - reconnect() of a connected client: a request made while it ends and connects again is served', async () => {
    const client = await connectMqtt({ url: emu.mqttUrl, clientId: 'thing-A' });
    const jobs = createJobsClient({ thingName: 'thing-A', transport: mqttTransport(client), timeoutMs: 3000 });
    await firstValueFrom(jobs.getPendingJobExecutions());
    const ended = new Promise<void>((resolve) => client.once('end', () => setImmediate(resolve)));
    client.reconnect();
    await ended; // connect() has run again; no CONNACK yet
    try {
      await expect(firstValueFrom(jobs.getPendingJobExecutions())).resolves.toMatchObject({ queuedJobs: [] });
    } finally {
      await client.endAsync(true);
    }
  });
});

describe('connectMqtt timer options', () => {
  it.each([
    ['connectTimeoutMs', 2 ** 31],
    ['connectTimeoutMs', 0],
    ['connectTimeoutMs', -1],
    ['connectTimeoutMs', Number.NaN],
    ['reconnectPeriodMs', -5],
    ['reconnectPeriodMs', 2 ** 31],
  ])('connect mqtt - %s %p is refused with InvalidRequestError before connecting', async (name, value) => {
    // Node runs a timer of 2^31 ms or more after 1 ms: a healthy broker failed with "connack timeout".
    const result: unknown = await connectMqtt({ url: emu.mqttUrl, clientId: 'thing-A', [name]: value }).then(
      async (client) => {
        await client.endAsync(true);
        return 'connected';
      },
      (error: unknown) => error,
    );
    expect(result).toBeInstanceOf(InvalidRequestError);
    expect(result).toMatchObject({ message: expect.stringContaining(name) });
  });
});

// Found in stop 10 and left open, fixed in stop 11: with reconnecting off, a connection that dropped without
// end() left event streams silent for ever and requests waiting for their deadline, since mqtt.js neither
// reconnects nor sets `disconnected`. They now fail at once, until the app calls reconnect().
describe('a connection that drops with reconnecting off', () => {
  /** Resolves at the next SUBACK the client receives. */
  const nextSuback = (client: MqttClient): Promise<void> =>
    new Promise((resolve) => {
      const onPacket = (packet: Packet): void => {
        if (packet.cmd !== 'suback') return;
        client.removeListener('packetreceive', onPacket);
        resolve();
      };
      client.on('packetreceive', onPacket);
    });

  it('mqtt transport - an event stream fails with TransportError at the drop, and works again after reconnect()', async () => {
    const client = await connectMqtt({ url: emu.mqttUrl, clientId: 'thing-A', reconnectPeriodMs: 0 });
    try {
      const jobs = createJobsClient({ thingName: 'thing-A', transport: mqttTransport(client), timeoutMs: 5000 });
      const granted = nextSuback(client);
      const event = firstValueFrom(jobs.nextJobExecutionChanged()).catch((e: unknown) => e);
      await granted;
      const started = performance.now();
      client.stream.destroy();
      const error = await event;
      expect(error).toBeInstanceOf(TransportError);
      expect(error).toMatchObject({ message: expect.stringContaining('reconnect') });
      expect(performance.now() - started).toBeLessThan(1000);
      // Refused at once while closed, served again once the app reconnects.
      await expect(firstValueFrom(jobs.getPendingJobExecutions())).rejects.toBeInstanceOf(TransportError);
      expect(performance.now() - started).toBeLessThan(1000);
      const reconnected = new Promise<void>((resolve) => client.once('connect', () => { resolve(); }));
      client.reconnect();
      await reconnected;
      await expect(firstValueFrom(jobs.getPendingJobExecutions())).resolves.toMatchObject({ queuedJobs: [] });
      // The event's filter is granted again, not held back by the UNSUBSCRIBE left from the drop.
      const grantedAgain = nextSuback(client);
      const again = jobs.nextJobExecutionChanged().subscribe({ error: () => undefined });
      await grantedAgain;
      again.unsubscribe();
    } finally {
      await client.endAsync(true);
    }
  });

  it('mqtt transport - a request in flight at the drop fails with TransportError, not at its deadline', async () => {
    const client = await connectMqtt({ url: emu.mqttUrl, clientId: 'thing-A', reconnectPeriodMs: 0 });
    try {
      const jobs = createJobsClient({ thingName: 'thing-A', transport: mqttTransport(client), timeoutMs: 5000 });
      await firstValueFrom(jobs.getPendingJobExecutions()); // the reply filter is granted
      // Dropped as the PUBLISH goes out, before any reply can come back.
      const onPacket = (packet: Packet): void => {
        if (packet.cmd !== 'publish') return;
        client.removeListener('packetsend', onPacket);
        client.stream.destroy();
      };
      client.on('packetsend', onPacket);
      const started = performance.now();
      const error: unknown = await firstValueFrom(jobs.describeJobExecution({ jobId: 'job-1' })).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TransportError);
      expect(performance.now() - started).toBeLessThan(1000);
    } finally {
      await client.endAsync(true);
    }
  });
});
