import { createRequire } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import mqtt, { type MqttClient } from 'mqtt';
import { firstValueFrom, take, toArray, type Subscription } from 'rxjs';
import type * as Sdk from 'aws-iot-device-sdk-v2';
import { TransportError, createJobsClient, mqttTransport } from '../../src';
import { fromAwsCrtMqtt5Client, type AwsCrtMqtt5Client } from '../../src/transport/aws-crt';
import { bridgeJobsService, mosquittoPath, startMosquitto, type BridgedService, type Mosquitto } from '../helpers/mosquitto';
import { mqttPortContract, portRecorder, waitFor } from './mqtt-port.contract';

// The aws-crt MQTT 5 client on mosquitto (MQTT 5; aedes speaks 3.1.1 only). Skipped where aws-crt does not load
// or mosquitto is missing (.ci/run installs it and makes its absence fail the run).
const sdk = ((): typeof Sdk | undefined => {
  try {
    return createRequire(__filename)('aws-iot-device-sdk-v2') as typeof Sdk;
  } catch {
    return undefined;
  }
})();
const required = process.env.IOT_JOBS_REQUIRE_MOSQUITTO === '1';
const runs = sdk !== undefined && (mosquittoPath !== undefined || required);
const describeMqtt5 = runs ? describe : describe.skip;

/** A started aws-crt MQTT 5 client on 127.0.0.1:`port`, once connected; it reconnects within ~0.5 s. */
const startCrt5 = async (loaded: typeof Sdk, port: number, clientId: string): Promise<AwsCrtMqtt5Client> => {
  const client = new loaded.mqtt5.Mqtt5Client({
    hostName: '127.0.0.1',
    port,
    connectProperties: { clientId, keepAliveIntervalSeconds: 30 },
    minReconnectDelayMs: 100,
    maxReconnectDelayMs: 500,
  });
  const connected = new Promise<void>((resolve) => client.once('connectionSuccess', () => { resolve(); }));
  client.start();
  await connected;
  return client;
};

// aws-crt's Mqtt5Client.close() frees nothing by itself: it drops the native references to the JS client, and the
// native client, with the threadsafe functions (ref'd libuv handles) that keep Node running, goes only when V8
// garbage-collects that JS client. Left to V8 that is seconds later, or never while anything still reaches the
// client (Jest then does not exit), or at exit, where the native shutdown races Node's teardown (abort, exit
// code 255). So the clients a test closed are collected before the next test, and one still reachable fails it.
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;
const collected = new FinalizationRegistry<() => void>((resolve) => { resolve(); });
/** One per client closed since the last collection: resolves once V8 has collected the JS client. */
let closed: Promise<void>[] = [];

/** Stops `client` and closes it: its native handles go once nothing reaches it (see the afterEach below). */
const closeCrt5 = async (client: AwsCrtMqtt5Client): Promise<void> => {
  const stopped = new Promise<void>((resolve) => client.once('stopped', () => { resolve(); }));
  client.stop();
  await stopped;
  client.close();
  closed.push(new Promise((resolve) => { collected.register(client, resolve); }));
};

// Top level: runs after each describe's own afterEach, which closes its clients and forgets them.
afterEach(async () => {
  const waiting = closed;
  closed = [];
  let left = waiting.length;
  for (const each of waiting) void each.then(() => { left -= 1; });
  for (let attempt = 0; left > 0; attempt += 1) {
    if (attempt === 100) throw new Error(`${left} closed aws-crt MQTT 5 client(s) still reachable after the test: their native handles keep Node running`);
    collectGarbage();
    await sleep(10);
  }
});

// The last native client shuts down on aws-crt's event loop thread after its finalizer: not while Node exits.
afterAll(() => sleep(50));

if (sdk !== undefined && runs) {
  const loaded = sdk;
  mqttPortContract('fromAwsCrtMqtt5Client', async () => {
    const broker = await startMosquitto();
    const client = await startCrt5(loaded, broker.port, 'crt5-under-test');
    const sender = await mqtt.connectAsync(broker.url, { clientId: 'crt5-sender', protocolVersion: 5 });
    return {
      port: fromAwsCrtMqtt5Client(client),
      deliver: async (topic, payload) => {
        await sender.publishAsync(topic, payload, { qos: 1 });
      },
      close: async () => {
        await closeCrt5(client);
        await sender.endAsync(true);
        await broker.stop();
      },
    };
  }, { copyPerSubscription: true });
}

describeMqtt5('fromAwsCrtMqtt5Client on mosquitto (beyond the contract)', () => {
  let broker: Mosquitto | undefined;
  let client: AwsCrtMqtt5Client | undefined;
  let sender: MqttClient | undefined;
  const recorder = portRecorder();
  const { subscribe, recordConnection } = recorder;
  const subscriptions: Subscription[] = [];

  const start = async () => {
    if (sdk === undefined) throw new Error('aws-crt does not load');
    broker = await startMosquitto();
    client = await startCrt5(sdk, broker.port, 'crt5');
    sender = await mqtt.connectAsync(broker.url, { clientId: 'crt5-sender', protocolVersion: 5, reconnectPeriod: 50 });
    return { port: fromAwsCrtMqtt5Client(client), broker, client, sender };
  };

  afterEach(async () => {
    recorder.release();
    for (const subscription of subscriptions.splice(0)) subscription.unsubscribe();
    try {
      if (client !== undefined) await closeCrt5(client);
      await sender?.endAsync(true);
    } finally {
      await broker?.stop();
      client = undefined;
      sender = undefined;
      broker = undefined;
    }
  });

  it('fromAwsCrtMqtt5Client - after the broker restarts (a new session), the filter lapses and is subscribed again by the port (aws-crt does not)', async () => {
    const { port, broker: mosquitto, sender: other } = await start();
    const states = recordConnection(port);
    const sub = subscribe(port, 'crt5/resub');
    await sub.untilSubscribed();
    await other.publishAsync('crt5/resub', 'before', { qos: 1 });
    await sub.untilReceived('crt5/resub');
    await mosquitto.halt();
    await mosquitto.resume();
    await waitFor('lapsed, then subscribed again', () => sub.kinds().filter((kind) => kind === 'subscribed').length === 2, 5000);
    expect(states).toEqual(['down', 'up']);
    await waitFor('the sender back', () => other.connected, 5000);
    await other.publishAsync('crt5/resub', 'after', { qos: 1 });
    await sub.untilReceived('crt5/resub', 2);
    expect(sub.kinds()).toEqual(['subscribed', 'message', 'lapsed', 'subscribed', 'message']);
    expect(sub.payloads()).toEqual(['before', 'after']);
  });

  it('fromAwsCrtMqtt5Client - after stop(): subscriptions fail and calls are refused with TransportError; after start() they work again', async () => {
    const { port, client: crt, sender: other } = await start();
    const states = recordConnection(port);
    const sub = subscribe(port, 'crt5/stopping');
    await sub.untilSubscribed();
    const stopped = new Promise<void>((resolve) => crt.once('stopped', () => { resolve(); }));
    crt.stop();
    await stopped;
    await sub.until('an error', () => sub.error() !== undefined);
    expect(sub.error()).toBeInstanceOf(TransportError);
    expect(states).toContain('end');
    await expect(firstValueFrom(port.publish('crt5/x', 'late'))).rejects.toMatchObject({ message: expect.stringContaining('start()') });
    const connected = new Promise<void>((resolve) => crt.once('connectionSuccess', () => { resolve(); }));
    crt.start();
    await connected;
    const again = subscribe(port, 'crt5/stopping');
    await again.untilSubscribed();
    await other.publishAsync('crt5/stopping', 'back', { qos: 1 });
    await again.untilReceived('crt5/stopping');
  });
});

describeMqtt5('the Jobs client over an aws-crt MQTT 5 client, on mosquitto', () => {
  let broker: Mosquitto | undefined;
  let bridge: BridgedService | undefined;
  let client: AwsCrtMqtt5Client | undefined;

  afterEach(async () => {
    try {
      if (client !== undefined) await closeCrt5(client);
      await bridge?.close();
    } finally {
      await broker?.stop();
      client = undefined;
      bridge = undefined;
      broker = undefined;
    }
  });

  it('aws-crt mqtt5 - the four operations and notify-next', async () => {
    if (sdk === undefined) throw new Error('aws-crt does not load');
    broker = await startMosquitto();
    bridge = await bridgeJobsService(broker.url);
    client = await startCrt5(sdk, broker.port, 'thing-A');
    const jobs = createJobsClient({ thingName: 'thing-A', transport: mqttTransport(fromAwsCrtMqtt5Client(client)), timeoutMs: 5000 });
    const next = firstValueFrom(jobs.nextJobExecutionChanged().pipe(take(1), toArray()));
    await firstValueFrom(jobs.getPendingJobExecutions()); // the event SUBACKs are in by now
    const created = bridge.service.engine.createJob({ jobId: 'job-1', targets: ['arn:aws:iot:us-east-1:123456789012:thing/thing-A'], document: '{"operation":"x"}' });
    if (!created.ok) throw new Error(created.message);
    await expect(next).resolves.toMatchObject([{ execution: { jobId: 'job-1', status: 'QUEUED' } }]);
    await expect(firstValueFrom(jobs.describeJobExecution({ jobId: 'job-1' }))).resolves.toMatchObject({ execution: { jobId: 'job-1', jobDocument: { operation: 'x' } } });
    await expect(firstValueFrom(jobs.startNextPendingJobExecution())).resolves.toMatchObject({ execution: { jobId: 'job-1', status: 'IN_PROGRESS' } });
    await expect(firstValueFrom(jobs.updateJobExecution({ jobId: 'job-1', status: 'SUCCEEDED', expectedVersion: 2, includeJobExecutionState: true }))).resolves.toMatchObject({ executionState: { status: 'SUCCEEDED' } });
  });
});
