import { createRequire } from 'node:module';
import mqtt, { type MqttClient } from 'mqtt';
import { firstValueFrom, type Subscription } from 'rxjs';
import type * as Sdk from 'aws-iot-device-sdk-v2';
import { TransportError, createJobsClient, mqttTransport } from '../../src';
import { startEmulator, type Emulator } from '../../src/emulator';
import { fromAwsCrtConnection, type AwsCrtConnection } from '../../src/transport/aws-crt';
import type { MqttPort } from '../../src/transport/mqtt-port';
import { startAuthBroker, type AuthBroker } from '../helpers/broker-auth';
import { mqttPortContract, portRecorder, waitFor } from './mqtt-port.contract';

// aws-crt ships native binaries for a few platforms only (none for a 32-bit Pi): where it does not load,
// these suites are skipped, as STYLE.md §6 says.
const sdk = ((): typeof Sdk | undefined => {
  try {
    return createRequire(__filename)('aws-iot-device-sdk-v2') as typeof Sdk;
  } catch {
    return undefined;
  }
})();

/** An aws-crt MQTT 3.1.1 connection to 127.0.0.1:`port`, connected; it reconnects after 1 s. */
const connectCrt = async (loaded: typeof Sdk, port: number, clientId: string, clean = true): Promise<AwsCrtConnection> => {
  const connection = new loaded.mqtt.MqttClient().new_connection({
    client_id: clientId,
    host_name: '127.0.0.1',
    port,
    clean_session: clean,
    keep_alive: 30,
    socket_options: new loaded.io.SocketOptions(loaded.io.SocketType.STREAM, loaded.io.SocketDomain.IPV4, 3000),
    reconnect_min_sec: 1,
    reconnect_max_sec: 1,
  });
  await connection.connect();
  return connection;
};

const describeCrt = sdk === undefined ? describe.skip : describe;

if (sdk === undefined) {
  describe.skip('fromAwsCrtConnection (aws-crt does not load on this machine)', () => {
    it('fromAwsCrtConnection - skipped', () => undefined);
  });
} else {
  const loaded = sdk;
  mqttPortContract('fromAwsCrtConnection', async () => {
    const broker = await startAuthBroker();
    const connection = await connectCrt(loaded, broker.port, 'crt-under-test');
    const sender = await mqtt.connectAsync(broker.url, { clientId: 'crt-sender' });
    return {
      port: fromAwsCrtConnection(connection),
      deliver: async (topic, payload) => {
        await sender.publishAsync(topic, payload, { qos: 1 });
      },
      close: async () => {
        await connection.disconnect();
        await sender.endAsync(true);
        await broker.close();
      },
    };
  });
}

describeCrt('fromAwsCrtConnection on aedes (beyond the contract)', () => {
  const loaded = sdk;
  let broker: AuthBroker | undefined;
  let connection: AwsCrtConnection | undefined;
  let sender: MqttClient | undefined;
  const subscriptions: Subscription[] = [];

  const start = async (options: Parameters<typeof startAuthBroker>[0] = {}, clean = true): Promise<{ port: MqttPort; broker: AuthBroker; sender: MqttClient }> => {
    if (loaded === undefined) throw new Error('aws-crt does not load');
    broker = await startAuthBroker(options);
    connection = await connectCrt(loaded, broker.port, 'crt', clean);
    sender = await mqtt.connectAsync(broker.url, { clientId: 'crt-sender', reconnectPeriod: 50 });
    return { port: fromAwsCrtConnection(connection), broker, sender };
  };
  const recorder = portRecorder();
  const { subscribe, recordConnection } = recorder;

  afterEach(async () => {
    recorder.release();
    for (const subscription of subscriptions.splice(0)) subscription.unsubscribe();
    await connection?.disconnect().catch(() => undefined);
    await sender?.endAsync(true);
    await broker?.close();
    connection = undefined;
    sender = undefined;
    broker = undefined;
  });

  // aws-crt does not retry a first connect() that failed, and cancels the calls it held then (at the failure, or
  // at the app's next connect()) with AWS_ERROR_MQTT_CANCELLED_FOR_CLEAN_SESSION, without an interrupt: the port
  // took that for a refusal and failed its subscriptions for good, though the app's next connect() succeeds.
  it.each(['before', 'after'])('fromAwsCrtConnection - a subscription opened %s a refused first connect() is subscribed at the next one', async (when) => {
    if (loaded === undefined) throw new Error('aws-crt does not load');
    let attempts = 0;
    broker = await startAuthBroker({
      aedes: {
        authenticate: (_client, _username, _password, callback) => {
          attempts += 1;
          callback(null, attempts > 1);
        },
      },
    });
    const refusedFirst = new loaded.mqtt.MqttClient().new_connection({
      client_id: 'crt-refused-first',
      host_name: '127.0.0.1',
      port: broker.port,
      clean_session: true,
      keep_alive: 30,
      socket_options: new loaded.io.SocketOptions(loaded.io.SocketType.STREAM, loaded.io.SocketDomain.IPV4, 3000),
    });
    refusedFirst.on('error', () => undefined);
    connection = refusedFirst;
    const port = fromAwsCrtConnection(refusedFirst);
    const early = when === 'before' ? subscribe(port, 'crt/after-refusal') : undefined;
    const firstAttempt = refusedFirst.connect();
    await expect(firstAttempt).rejects.toBeDefined();
    const sub = early ?? subscribe(port, 'crt/after-refusal');
    await refusedFirst.connect();
    await sub.untilSubscribed();
    sender = await mqtt.connectAsync(broker.url, { clientId: 'crt-sender' });
    await sender.publishAsync('crt/after-refusal', 'delivered', { qos: 1 });
    await sub.untilReceived('crt/after-refusal');
    expect(sub.error()).toBeUndefined();
    expect(sub.payloads()).toEqual(['delivered']);
  });

  it('fromAwsCrtConnection - the same port for the same connection', async () => {
    const { port } = await start();
    expect(connection === undefined ? undefined : fromAwsCrtConnection(connection)).toBe(port);
  });

  it('fromAwsCrtConnection - a refused SUBSCRIBE errors with TransportError carrying reason code 128', async () => {
    const { port } = await start({
      aedes: {
        authorizeSubscribe: (_client, subscription, callback) => {
          callback(null, subscription.topic.startsWith('refused/') ? null : subscription);
        },
      },
    });
    const refused = subscribe(port, 'refused/x');
    await refused.until('an error', () => refused.error() !== undefined);
    expect(refused.error()).toBeInstanceOf(TransportError);
    expect(refused.error()).toMatchObject({ reasonCode: 128 });
    const allowed = subscribe(port, 'allowed/x');
    await allowed.untilSubscribed();
  });

  it('fromAwsCrtConnection - after a drop on a new session, the filter lapses and is subscribed again by the port (aws-crt does not)', async () => {
    const { port, broker: testBroker, sender: other } = await start();
    const states = recordConnection(port);
    const sub = subscribe(port, 'crt/resub');
    await sub.untilSubscribed();
    await other.publishAsync('crt/resub', 'before', { qos: 1 });
    await sub.untilReceived('crt/resub');
    testBroker.dropClients();
    await waitFor('lapsed, then subscribed again', () => sub.kinds().filter((kind) => kind === 'subscribed').length === 2, 5000);
    expect(states).toEqual(['down', 'up']);
    await waitFor('the sender back', () => other.connected);
    await other.publishAsync('crt/resub', 'after', { qos: 1 });
    await sub.untilReceived('crt/resub', 2);
    expect(sub.kinds()).toEqual(['subscribed', 'message', 'lapsed', 'subscribed', 'message']);
    expect(sub.payloads()).toEqual(['before', 'after']);
  });

  it('fromAwsCrtConnection - on a resumed session (clean: false) the filter is subscribed again at once, resumed', async () => {
    const subscribed: string[] = [];
    const { port, broker: testBroker } = await start({}, false);
    testBroker.aedes.on('subscribe', (subs, client) => {
      if (client.id === 'crt') subscribed.push(...subs.map((s) => s.topic));
    });
    const events: unknown[] = [];
    subscriptions.push(port.subscribe('crt/kept').subscribe((event) => events.push(event)));
    await waitFor('subscribed', () => events.length === 1);
    testBroker.dropClients();
    await waitFor('lapsed, then subscribed again', () => events.length === 3, 5000);
    expect(events).toEqual([{ kind: 'subscribed' }, { kind: 'lapsed' }, { kind: 'subscribed', resumed: true }]);
    expect(subscribed).toEqual(['crt/kept']);
  });

  it('fromAwsCrtConnection - a PUBLISH whose PUBACK a new session cancels completes without emitting: lost, not failed', async () => {
    const held: (() => void)[] = [];
    const { port, broker: testBroker } = await start({
      aedes: {
        // The broker sits on the PUBLISH: no PUBACK before the drop.
        authorizePublish: (_client, packet, callback) => {
          if (packet.topic === 'crt/held') held.push(() => { callback(null); });
          else callback(null);
        },
      },
    });
    const notifications = await new Promise<string[]>((resolve) => {
      const seen: string[] = [];
      subscriptions.push(
        port.publish('crt/held', 'x').subscribe({
          next: () => seen.push('next'),
          error: (error: unknown) => {
            seen.push(`error ${String(error)}`);
            resolve(seen);
          },
          complete: () => {
            seen.push('complete');
            resolve(seen);
          },
        }),
      );
      void waitFor('the PUBLISH at the broker', () => held.length === 1).then(() => {
        testBroker.dropClients();
      });
    });
    expect(notifications).toEqual(['complete']);
  });

  it('fromAwsCrtConnection - after disconnect(): subscriptions fail, connection$ says end, and new calls are refused with TransportError', async () => {
    const { port } = await start();
    const states = recordConnection(port);
    const sub = subscribe(port, 'crt/closing');
    await sub.untilSubscribed();
    await connection?.disconnect();
    await sub.until('an error', () => sub.error() !== undefined);
    expect(sub.error()).toBeInstanceOf(TransportError);
    expect(states.at(-1)).toBe('end');
    await expect(firstValueFrom(port.publish('crt/x', 'late'))).rejects.toBeInstanceOf(TransportError);
    const late = subscribe(port, 'crt/late');
    await late.until('an error', () => late.error() !== undefined);
    expect(late.error()).toMatchObject({ message: expect.stringContaining('disconnect()') });
  });
});

describeCrt('the Jobs client over aws-crt, on the emulator', () => {
  const loaded = sdk;
  let emu: Emulator;
  let connection: AwsCrtConnection;

  beforeEach(async () => {
    if (loaded === undefined) throw new Error('aws-crt does not load');
    emu = await startEmulator({ host: '127.0.0.1', mqttPort: 0, dataPort: 0, controlPort: 0 });
    const created = emu.engine.createJob({ jobId: 'job-1', targets: ['arn:aws:iot:us-east-1:123456789012:thing/thing-A'], document: '{"op":"x"}' });
    if (!created.ok) throw new Error(created.message);
    connection = await connectCrt(loaded, Number(new URL(emu.mqttUrl).port), 'thing-A');
  });

  afterEach(async () => {
    await connection.disconnect().catch(() => undefined);
    await emu.close();
  });

  it('aws-crt - the four operations and notify-next over an aws-crt connection', async () => {
    const jobs = createJobsClient({ thingName: 'thing-A', transport: mqttTransport(fromAwsCrtConnection(connection)), timeoutMs: 5000 });
    const next = firstValueFrom(jobs.nextJobExecutionChanged());
    await expect(firstValueFrom(jobs.getPendingJobExecutions())).resolves.toMatchObject({ queuedJobs: [{ jobId: 'job-1' }] });
    await expect(firstValueFrom(jobs.describeJobExecution({ jobId: 'job-1' }))).resolves.toMatchObject({ execution: { jobId: 'job-1', jobDocument: { op: 'x' } } });
    const started = await firstValueFrom(jobs.startNextPendingJobExecution());
    expect(started.execution).toMatchObject({ jobId: 'job-1', status: 'IN_PROGRESS' });
    await expect(firstValueFrom(jobs.updateJobExecution({ jobId: 'job-1', status: 'SUCCEEDED' }))).resolves.toBeDefined();
    // job-1 done, nothing else queued: notify-next says so, with no execution.
    await expect(next).resolves.toMatchObject({ timestamp: expect.any(Date) });
  });

  it('aws-crt - a read in flight when the connection drops is answered after aws-crt reconnects', async () => {
    const jobs = createJobsClient({ thingName: 'thing-A', transport: mqttTransport(fromAwsCrtConnection(connection)), timeoutMs: 8000 });
    await firstValueFrom(jobs.describeJobExecution({ jobId: 'job-1' })); // the reply filter is granted
    // The emulator takes the request and sends no reply; then the connection drops.
    emu.faults.dropRepliesNext(1);
    const reply = firstValueFrom(jobs.describeJobExecution({ jobId: 'job-1' }));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(emu.faults.disconnect('thing-A')).toBe(1);
    await expect(reply).resolves.toMatchObject({ execution: { jobId: 'job-1' } });
  });
});
