import net from 'node:net';
import mqtt, { type MqttClient } from 'mqtt';
import { firstValueFrom, lastValueFrom, materialize, toArray, type Subscription } from 'rxjs';
import { TransportError } from '../../src/errors';
import { fromMqttClient } from '../../src/transport/mqtt-js-port';
import { isMqttPort } from '../../src/transport/mqtt-port';
import { createFakeMqttPort } from '../../src/testing/fake-mqtt-port';
import { mqttTransport } from '../../src/transport/mqtt';
import { createJobsClient } from '../../src/client';
import { classifyUpdateError } from '../../src/agent/retry-update';
import { startBroker, type TestBroker } from '../helpers/broker';
import { startAuthBroker } from '../helpers/broker-auth';
import { mosquittoPath, startMosquitto } from '../helpers/mosquitto';
import { mqttPortContract, portRecorder, record, waitFor, type MqttPortFixture } from './mqtt-port.contract';

/** A plain mqtt.js client, as a user would pass it; TCP_NODELAY only to keep the suite fast. */
const connectClient = async (url: string, clientId: string, protocolVersion: 4 | 5 = 4): Promise<MqttClient> => {
  const client = await mqtt.connectAsync(url, { clientId, reconnectPeriod: 50, connectTimeout: 2000, protocolVersion });
  const noDelay = (): void => {
    if (client.stream instanceof net.Socket) client.stream.setNoDelay(true);
  };
  noDelay();
  client.on('connect', noDelay);
  return client;
};

/** The mqtt.js adapter on a client of the broker at `url`, with a second client to deliver from. */
const mqttJsFixture = async (url: string, protocolVersion: 4 | 5, stopBroker: () => Promise<void>): Promise<MqttPortFixture> => {
  const client = await connectClient(url, 'port-under-test', protocolVersion);
  const sender = await connectClient(url, 'sender', protocolVersion);
  return {
    port: fromMqttClient(client),
    deliver: async (topic, payload) => {
      await sender.publishAsync(topic, payload, { qos: 1 });
    },
    close: async () => {
      await client.endAsync(true);
      await sender.endAsync(true);
      await stopBroker();
    },
  };
};

mqttPortContract('createFakeMqttPort', () => {
  const port = createFakeMqttPort();
  return Promise.resolve({
    port,
    deliver: (topic: string, payload: string) => {
      port.deliver(topic, payload);
      return Promise.resolve();
    },
    close: () => Promise.resolve(),
  });
});

mqttPortContract('fromMqttClient', async () => {
  const broker = await startBroker();
  return mqttJsFixture(broker.url, 4, () => broker.close());
});

// The same contract on mosquitto with MQTT 5, where overlapping filters each get a copy of a message.
if (mosquittoPath !== undefined || process.env.IOT_JOBS_REQUIRE_MOSQUITTO === '1') {
  mqttPortContract('fromMqttClient on mosquitto (MQTT 5)', async () => {
    const mosquitto = await startMosquitto();
    return mqttJsFixture(mosquitto.url, 5, () => mosquitto.stop());
  }, { copyPerSubscription: true });
}

describe('isMqttPort', () => {
  it('isMqttPort - tells an MqttPort from an mqtt.js client', async () => {
    const broker = await startBroker();
    const client = await connectClient(broker.url, 'is-port');
    try {
      expect(isMqttPort(createFakeMqttPort())).toBe(true);
      expect(isMqttPort(fromMqttClient(client))).toBe(true);
      expect(isMqttPort(client)).toBe(false);
    } finally {
      await client.endAsync(true);
      await broker.close();
    }
  });
});

describe('createFakeMqttPort (beyond the contract)', () => {
  it('createFakeMqttPort - with autoGrant false, nothing is delivered before the grant', () => {
    const port = createFakeMqttPort({ autoGrant: false });
    const sub = record(port.subscribe('fake/t'));
    port.deliver('fake/t', 'early');
    port.grant('fake/t');
    port.deliver('fake/t', 'late');
    expect(sub.kinds()).toEqual(['subscribed', 'message']);
    expect(sub.payloads()).toEqual(['late']);
    sub.unsubscribe();
  });

  it('createFakeMqttPort - refuse errors the subscription with TransportError, reason code 128', () => {
    const port = createFakeMqttPort({ autoGrant: false });
    const sub = record(port.subscribe('fake/refused'));
    port.refuse('fake/refused');
    expect(sub.error()).toBeInstanceOf(TransportError);
    expect(sub.error()).toMatchObject({ reasonCode: 128 });
    expect(sub.kinds()).toEqual([]);
    expect(port.activeFilters()).toEqual([]);
  });
});

describe('fromMqttClient on aedes (beyond the contract)', () => {
  let broker: TestBroker | undefined;
  const clients: MqttClient[] = [];
  // authorizeSubscribe callbacks held back for filters under `held/` (to delay their SUBACK).
  const held: (() => void)[] = [];

  const startClient = async (url: string, clientId: string): Promise<MqttClient> => {
    const client = await connectClient(url, clientId);
    clients.push(client);
    return client;
  };
  const recorder = portRecorder();
  const { subscribe, recordConnection } = recorder;

  afterEach(async () => {
    for (const release of held.splice(0)) release();
    recorder.release();
    for (const client of clients.splice(0)) await client.endAsync(true);
    await broker?.close();
    broker = undefined;
  });

  it('fromMqttClient - a refused SUBSCRIBE errors with TransportError carrying reason code 128', async () => {
    broker = await startAuthBroker({
      aedes: {
        authorizeSubscribe: (_client, sub, done) => {
          done(null, sub.topic.startsWith('forbidden/') ? null : sub);
        },
      },
    });
    const port = fromMqttClient(await startClient(broker.url, 'refused'));
    const refused = subscribe(port, 'forbidden/x');
    await refused.until('an error', () => refused.error() !== undefined);
    expect(refused.error()).toBeInstanceOf(TransportError);
    expect(refused.error()).toMatchObject({ name: 'TransportError', reasonCode: 128 });
    expect(refused.kinds()).toEqual([]);
    // The client stays usable for other filters.
    const allowed = subscribe(port, 'allowed/x');
    await allowed.untilSubscribed();
    expect(allowed.error()).toBeUndefined();
  });

  it('fromMqttClient - unsubscribing sends UNSUBSCRIBE: the broker delivers nothing more on that filter', async () => {
    const authBroker = await startAuthBroker();
    broker = authBroker;
    const unsubscribed: string[] = [];
    authBroker.aedes.on('unsubscribe', (topics, client) => {
      if (client.id === 'unsub') unsubscribed.push(...topics);
    });
    const client = await startClient(authBroker.url, 'unsub');
    const sender = await startClient(authBroker.url, 'unsub-sender');
    const raw: string[] = [];
    client.on('message', (topic) => raw.push(topic));
    const port = fromMqttClient(client);
    const sub = subscribe(port, 'adapter/stop');
    const sentinel = subscribe(port, 'adapter/sentinel');
    await sub.untilSubscribed();
    await sentinel.untilSubscribed();
    sub.unsubscribe();
    await waitFor('UNSUBSCRIBE at the broker', () => unsubscribed.includes('adapter/stop'));
    await sender.publishAsync('adapter/stop', 'after', { qos: 1 });
    await sender.publishAsync('adapter/sentinel', 'barrier', { qos: 1 });
    await sentinel.untilReceived('adapter/sentinel');
    expect(unsubscribed).toEqual(['adapter/stop']);
    expect(raw).toEqual(['adapter/sentinel']);
  });

  it('fromMqttClient - a message that arrives through another filter before the SUBACK is not emitted before subscribed', async () => {
    const authBroker = await startAuthBroker({
      aedes: {
        authorizeSubscribe: (_client, sub, done) => {
          if (sub.topic.startsWith('held/')) held.push(() => { done(null, sub); });
          else done(null, sub);
        },
      },
    });
    broker = authBroker;
    const client = await startClient(authBroker.url, 'early');
    const sender = await startClient(authBroker.url, 'early-sender');
    const port = fromMqttClient(client);
    // `+/a` is granted at once and brings `held/a` to the client; `held/+` waits for its SUBACK.
    const wide = subscribe(port, '+/a');
    await wide.untilSubscribed();
    const pending = subscribe(port, 'held/+');
    await waitFor('the SUBSCRIBE of held/+ at the broker', () => held.length === 1);
    await sender.publishAsync('held/a', 'early', { qos: 1 });
    await wide.untilReceived('held/a');
    for (const release of held.splice(0)) release();
    await pending.untilSubscribed();
    expect(pending.kinds()[0]).toBe('subscribed');
    expect(pending.kinds().filter((kind) => kind === 'subscribed')).toHaveLength(1);
  });

  it('fromMqttClient - connection$ reports down when the broker drops the client, then up after mqtt.js reconnects', async () => {
    const testBroker = await startBroker();
    broker = testBroker;
    const client = await startClient(testBroker.url, 'drop');
    const states = recordConnection(fromMqttClient(client));
    testBroker.dropClients();
    await waitFor('down then up', () => states.includes('up'));
    expect(states).toEqual(['down', 'up']);
    expect(client.connected).toBe(true);
  });

  it('fromMqttClient - connection$ reports end after client.end()', async () => {
    const testBroker = await startBroker();
    broker = testBroker;
    const client = await startClient(testBroker.url, 'ending');
    const states = recordConnection(fromMqttClient(client));
    await client.endAsync();
    await waitFor('end', () => states.includes('end'));
    expect(states.at(-1)).toBe('end');
    expect(states.filter((state) => state === 'end')).toHaveLength(1);
    expect(states).not.toContain('up');
  });

  it('fromMqttClient - a subscription lapses when the connection drops and is subscribed again at the SUBACK of its own SUBSCRIBE', async () => {
    const subscribed: string[] = [];
    // Every SUBSCRIBE packet is authorized, also one for a filter the client holds already.
    const authBroker = await startAuthBroker({
      aedes: {
        authorizeSubscribe: (client, subscription, callback) => {
          if (client.id === 'resub') subscribed.push(subscription.topic);
          callback(null, subscription);
        },
      },
    });
    broker = authBroker;
    const client = await startClient(authBroker.url, 'resub');
    const sender = await startClient(authBroker.url, 'resub-sender');
    const port = fromMqttClient(client);
    const sub = subscribe(port, 'adapter/resub');
    await sub.untilSubscribed();
    await sender.publishAsync('adapter/resub', 'before', { qos: 1 });
    await sub.untilReceived('adapter/resub');
    authBroker.dropClients();
    await waitFor('lapsed, then subscribed again', () => sub.kinds().filter((kind) => kind === 'subscribed').length === 2);
    // mqtt.js resubscribes (its SUBACK is not reported), then the port's own SUBSCRIBE says when the filter is back.
    await waitFor('both SUBSCRIBEs at the broker', () => subscribed.length === 3);
    expect(subscribed).toEqual(['adapter/resub', 'adapter/resub', 'adapter/resub']);
    await waitFor('the sender back', () => sender.connected);
    await sender.publishAsync('adapter/resub', 'after', { qos: 1 });
    await sub.untilReceived('adapter/resub', 2);
    expect(sub.kinds()).toEqual(['subscribed', 'message', 'lapsed', 'subscribed', 'message']);
    expect(sub.payloads()).toEqual(['before', 'after']);
    expect(sub.error()).toBeUndefined();
  });

  it('fromMqttClient - on a resumed session (clean: false) the filter is subscribed again at once, with no SUBSCRIBE', async () => {
    const authBroker = await startAuthBroker();
    broker = authBroker;
    const subscribed: string[] = [];
    authBroker.aedes.on('subscribe', (subs, client) => {
      if (client.id === 'kept') subscribed.push(...subs.map((sub) => sub.topic));
    });
    const client = await mqtt.connectAsync(authBroker.url, { clientId: 'kept', clean: false, reconnectPeriod: 50, connectTimeout: 2000 });
    clients.push(client);
    const sender = await startClient(authBroker.url, 'kept-sender');
    const sub = subscribe(fromMqttClient(client), 'adapter/kept');
    await sub.untilSubscribed();
    authBroker.dropClients();
    await waitFor('lapsed, then subscribed again', () => sub.kinds().filter((kind) => kind === 'subscribed').length === 2);
    expect(subscribed).toEqual(['adapter/kept']);
    await waitFor('the sender back', () => sender.connected);
    await sender.publishAsync('adapter/kept', 'after', { qos: 1 });
    await sub.untilReceived('adapter/kept');
    expect(sub.kinds()).toEqual(['subscribed', 'lapsed', 'subscribed', 'message']);
  });

  it('fromMqttClient - one port per mqtt.js client: two transports share a filter, and one ending it keeps the other', async () => {
    const testBroker = await startBroker();
    broker = testBroker;
    const client = await startClient(testBroker.url, 'shared');
    const sender = await startClient(testBroker.url, 'shared-sender');
    expect(fromMqttClient(client)).toBe(fromMqttClient(client));
    const first = subscribe(fromMqttClient(client), 'adapter/shared');
    await first.untilSubscribed();
    const second = subscribe(fromMqttClient(client), 'adapter/shared');
    await second.untilSubscribed();
    first.unsubscribe();
    await sender.publishAsync('adapter/shared', 'after', { qos: 1 });
    await second.untilReceived('adapter/shared');
    expect(second.payloads()).toEqual(['after']);
  });

  it('fromMqttClient - a filter whose UNSUBACK was pending when the connection dropped is subscribed again after the reconnect', async () => {
    const testBroker = await startBroker();
    broker = testBroker;
    const client = await startClient(testBroker.url, 'wedge');
    const sender = await startClient(testBroker.url, 'wedge-sender');
    const port = fromMqttClient(client);
    const first = subscribe(port, 'adapter/wedge');
    await first.untilSubscribed();
    first.unsubscribe(); // UNSUBSCRIBE sent; the next SUBSCRIBE waits for its UNSUBACK
    const second = subscribe(port, 'adapter/wedge');
    client.stream.destroy(); // mqtt.js fails the UNSUBSCRIBE while it still counts as connected
    await second.untilSubscribed();
    await sender.publishAsync('adapter/wedge', 'after', { qos: 1 });
    await second.untilReceived('adapter/wedge');
    expect(second.kinds()).toEqual(['subscribed', 'message']);
  });

  it('fromMqttClient - a subscriber that ends another inside next() leaves no reference behind: the UNSUBSCRIBE still goes', async () => {
    const testBroker = await startBroker();
    broker = testBroker;
    const client = await startClient(testBroker.url, 'reentry');
    const port = fromMqttClient(client);
    const sent: string[] = [];
    client.on('packetsend', (packet) => sent.push(packet.cmd));
    // `first` is told first at the SUBACK (it subscribed first) and ends `other` before it is told.
    const first = port.subscribe('adapter/reentry').subscribe((event) => {
      if (event.kind === 'subscribed') other.unsubscribe();
    });
    const other: Subscription = port.subscribe('adapter/reentry').subscribe(() => undefined);
    await waitFor('the SUBACK', () => other.closed);
    first.unsubscribe();
    await waitFor('the UNSUBSCRIBE', () => sent.includes('unsubscribe'));
    expect(client.listenerCount('message')).toBeLessThanOrEqual(1);
  });

  it('fromMqttClient - listeners on the client do not grow with the number of filters', async () => {
    const testBroker = await startBroker();
    broker = testBroker;
    const client = await startClient(testBroker.url, 'listeners');
    const events = ['message', 'close', 'connect'] as const;
    const before = events.map((event) => client.listenerCount(event));
    const port = fromMqttClient(client);
    const subs = Array.from({ length: 12 }, (_, i) => subscribe(port, `adapter/many/${i}`));
    for (const sub of subs) await sub.untilSubscribed();
    const after = events.map((event) => client.listenerCount(event));
    expect(after.map((count, i) => count - (before[i] ?? 0))).toEqual([1, 1, 1]);
    // Nor with the number of transports on the client: each one's connection$ is the port's.
    const transports = Array.from({ length: 12 }, () => mqttTransport(client));
    expect(transports).toHaveLength(12);
    expect(events.map((event) => client.listenerCount(event))).toEqual(after);
  });

  it('fromMqttClient - a subscription made while the client is ending fails with TransportError instead of waiting for ever', async () => {
    const testBroker = await startBroker();
    broker = testBroker;
    const client = await startClient(testBroker.url, 'ending-sub');
    const port = fromMqttClient(client);
    const ended = client.endAsync();
    const sub = subscribe(port, 'adapter/ending');
    await sub.until('an error', () => sub.error() !== undefined);
    expect(sub.error()).toBeInstanceOf(TransportError);
    await ended;
  });

  it('fromMqttClient - publish sends at QoS 1, emits once and completes', async () => {
    const testBroker = await startBroker();
    broker = testBroker;
    const client = await startClient(testBroker.url, 'publisher');
    const receiver = await startClient(testBroker.url, 'receiver');
    const received: { topic: string; payload: string; qos: number }[] = [];
    receiver.on('message', (topic, payload, packet) => received.push({ topic, payload: payload.toString(), qos: packet.qos }));
    await receiver.subscribeAsync('adapter/publish', { qos: 1 });
    const notifications = await lastValueFrom(fromMqttClient(client).publish('adapter/publish', 'hello').pipe(materialize(), toArray()));
    await waitFor('the message at the receiver', () => received.length === 1);
    expect(notifications.map((n) => n.kind)).toEqual(['N', 'C']);
    expect(received).toEqual([{ topic: 'adapter/publish', payload: 'hello', qos: 1 }]);
  });

  it('fromMqttClient - a PUBLISH alone goes to the socket at once; with others unacknowledged, the tick\'s PUBLISHes leave together', async () => {
    const testBroker = await startBroker();
    broker = testBroker;
    const client = await startClient(testBroker.url, 'flusher');
    const port = fromMqttClient(client);
    const socket = client.stream;
    if (!(socket instanceof net.Socket)) throw new Error('expected a TCP socket');
    // mqtt-packet corks the socket for each packet and uncorks on the next tick; the port writes a lone one now.
    const before = socket.bytesWritten;
    const first = lastValueFrom(port.publish('adapter/flush', 'one'));
    const alone = { corked: socket.writableCorked, written: socket.bytesWritten > before };
    const second = lastValueFrom(port.publish('adapter/flush', 'two'));
    const third = lastValueFrom(port.publish('adapter/flush', 'three'));
    const batched = { corked: socket.writableCorked };
    await Promise.all([first, second, third]);
    expect({ alone, batched }).toEqual({ alone: { corked: 0, written: true }, batched: { corked: 2 } });
  });

  // Found in review of 99a3454: mqtt.js never calls back a QoS 1 PUBLISH it held at end(true) with reconnecting
  // on, so the port's publish never ended, and the count of unacknowledged PUBLISHes stayed up: no lone PUBLISH
  // was flushed again after reconnect().
  it('fromMqttClient - a PUBLISH unacknowledged at end(true) fails with TransportError, and after reconnect() a lone PUBLISH still goes at once', async () => {
    const held: (() => void)[] = [];
    const authBroker = await startAuthBroker({
      aedes: {
        authorizePublish: (_client, packet, callback) => {
          if (packet.topic === 'adapter/held') held.push(() => { callback(null); });
          else callback(null);
        },
      },
    });
    broker = authBroker;
    const client = await startClient(authBroker.url, 'flush-end');
    const port = fromMqttClient(client);
    let settled = 'pending';
    port.publish('adapter/held', 'x').subscribe({ complete: () => { settled = 'complete'; }, error: (error: unknown) => { settled = error instanceof TransportError ? 'TransportError' : 'other error'; } });
    await waitFor('the PUBLISH at the broker', () => held.length === 1);
    await client.endAsync(true);
    client.reconnect();
    await waitFor('reconnected', () => client.connected);
    const socket = client.stream;
    if (!(socket instanceof net.Socket)) throw new Error('expected a TCP socket');
    const before = socket.bytesWritten;
    const lone = lastValueFrom(port.publish('adapter/lone', 'one'));
    const alone = { corked: socket.writableCorked, written: socket.bytesWritten > before };
    await lone;
    expect({ settled, alone }).toEqual({ settled: 'TransportError', alone: { corked: 0, written: true } });
  });

  // Found by a new user's walkthrough: with the CommonJS and ESM builds both loaded (two copies of the module),
  // each made its own port on one client, and one's UNSUBSCRIBE cancelled the other's notifications.
  it('fromMqttClient - two copies of the module loaded in one process give one port per client', async () => {
    const testBroker = await startBroker();
    broker = testBroker;
    const client = await startClient(testBroker.url, 'two-copies');
    type Module = typeof import('../../src/transport/mqtt-js-port');
    const copies: Module[] = [];
    for (let i = 0; i < 2; i += 1) {
      jest.isolateModules(() => {
        copies.push(jest.requireActual<Module>('../../src/transport/mqtt-js-port'));
      });
    }
    const [first, second] = copies;
    if (first === undefined || second === undefined) throw new Error('two copies expected');
    expect(first.fromMqttClient).not.toBe(second.fromMqttClient);
    expect(first.fromMqttClient(client)).toBe(second.fromMqttClient(client));
    expect(first.fromMqttClient(client)).toBe(fromMqttClient(client));
  });

  // Found in review of the shared port: the port's errors were of the copy that made it, so an app on the other
  // copy got a TransportError that was not `instanceof` its TransportError, and the runner's update retry took a
  // transient failure for a fatal one.
  it('mqttTransport - a port shared with another copy of the module fails requests with errors of this copy', async () => {
    const testBroker = await startBroker();
    broker = testBroker;
    const client = await mqtt.connectAsync(testBroker.url, { clientId: 'shared-errors', reconnectPeriod: 0 });
    clients.push(client);
    type Module = typeof import('../../src/transport/mqtt');
    let other: Module | undefined;
    jest.isolateModules(() => {
      other = jest.requireActual<Module>('../../src/transport/mqtt');
    });
    other?.mqttTransport(client); // a dependency on the other build got to the client first
    const jobs = createJobsClient({ thingName: 'thing-1', transport: mqttTransport(client) });
    const closed = new Promise<void>((resolve) => client.once('close', () => { resolve(); }));
    testBroker.dropClients();
    await closed;
    const update: unknown = await firstValueFrom(jobs.updateJobExecution({ jobId: 'job-1', status: 'IN_PROGRESS' })).catch((e: unknown) => e);
    const event: unknown = await firstValueFrom(jobs.nextJobExecutionChanged()).catch((e: unknown) => e);
    expect({ update: update instanceof TransportError, kind: classifyUpdateError(update), event: event instanceof TransportError }).toEqual({ update: true, kind: 'retry', event: true });
  });

  it('fromMqttClient - publish is cold: nothing is sent until it is subscribed', async () => {
    const testBroker = await startBroker();
    broker = testBroker;
    const client = await startClient(testBroker.url, 'cold');
    const seen: string[] = [];
    testBroker.aedes.on('publish', (packet, from) => {
      if (from?.id === 'cold') seen.push(packet.topic);
    });
    const port = fromMqttClient(client);
    const unsent = port.publish('adapter/cold', 'never');
    await lastValueFrom(port.publish('adapter/barrier', 'x'));
    await waitFor('the barrier at the broker', () => seen.includes('adapter/barrier'));
    expect(seen).toEqual(['adapter/barrier']);
    await lastValueFrom(unsent);
    await waitFor('the cold publish at the broker', () => seen.includes('adapter/cold'));
    expect(seen).toEqual(['adapter/barrier', 'adapter/cold']);
  });

  it('fromMqttClient - publish on an ended client errors with TransportError', async () => {
    const testBroker = await startBroker();
    broker = testBroker;
    const client = await startClient(testBroker.url, 'ended');
    await client.endAsync();
    await expect(lastValueFrom(fromMqttClient(client).publish('adapter/ended', 'x'))).rejects.toBeInstanceOf(TransportError);
  });
});
