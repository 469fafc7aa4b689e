import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import mqtt, { type MqttClient } from 'mqtt';
import type { AedesOptions, ConnectPacket } from 'aedes';
import { InvalidRequestError, TransportError } from '../../src/errors';
import { connectMqtt, type ConnectMqttOptions } from '../../src/transport/connect-mqtt';
import { startBroker, type TestBroker } from '../helpers/broker';
import { startAuthBroker, type AuthBroker } from '../helpers/broker-auth';
import { waitFor } from './mqtt-port.contract';

/** A bare TCP server that does something MQTT brokers don't (hang up at once, or never answer). */
interface RawServer {
  readonly url: string;
  readonly connections: () => number;
  readonly openSockets: () => number;
  readonly close: () => Promise<void>;
}

const startRawServer = async (onSocket: (socket: net.Socket) => void): Promise<RawServer> => {
  const sockets = new Set<net.Socket>();
  let connections = 0;
  const server = net.createServer((socket) => {
    connections += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    onSocket(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    connections: () => connections,
    openSockets: () => sockets.size,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => { resolve(); }));
    },
  };
};

/** A loopback port nobody listens on (bound once, then released). */
const closedPort = async (): Promise<number> => {
  const server = await startRawServer(() => undefined);
  const port = Number(new URL(server.url).port);
  await server.close();
  return port;
};

/** Median time of a QoS 1 publish to a topic the client itself subscribes to, until the message is back. */
const medianRoundTripMs = async (client: MqttClient, topic: string, rounds = 11): Promise<number> => {
  await client.subscribeAsync(topic, { qos: 1 });
  const times: number[] = [];
  for (let i = 0; i < rounds; i += 1) {
    const start = performance.now();
    const received = new Promise<void>((resolve) => {
      const onMessage = (t: string): void => {
        if (t !== topic) return;
        client.removeListener('message', onMessage);
        resolve();
      };
      client.on('message', onMessage);
    });
    await client.publishAsync(topic, `round ${i}`, { qos: 1 });
    await received;
    times.push(performance.now() - start);
  }
  await client.unsubscribeAsync(topic);
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] ?? Number.NaN;
};

// With Nagle on the client, each round trip waits for a delayed ACK (~40 ms on Linux); with TCP_NODELAY on
// both ends it is well under a millisecond on loopback (../shared/spec/dependencies.md §2).
const noNagleMs = 15;
const nagleMs = 30;

/** aedes `preConnect` that records every CONNECT packet and lets it through. */
const recordConnects = (): { connects: ConnectPacket[]; preConnect: NonNullable<AedesOptions['preConnect']> } => {
  const connects: ConnectPacket[] = [];
  return {
    connects,
    preConnect: (_client, packet, done) => {
      connects.push(packet);
      done(null, true);
    },
  };
};

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('connectMqtt', () => {
  const clients: MqttClient[] = [];
  const closers: (() => Promise<void>)[] = [];

  const connect = async (options: ConnectMqttOptions): Promise<MqttClient> => {
    const client = await connectMqtt(options);
    clients.push(client);
    return client;
  };
  /** Runs `connectMqtt` and returns what it rejected with, and after how long. */
  const failure = async (options: ConnectMqttOptions): Promise<{ error: unknown; elapsedMs: number }> => {
    const start = performance.now();
    const error = await connectMqtt(options).then(
      (client) => {
        clients.push(client);
        return new Error('connectMqtt resolved');
      },
      (e: unknown) => e,
    );
    return { error, elapsedMs: performance.now() - start };
  };
  const broker = async (): Promise<TestBroker> => {
    const started = await startBroker();
    closers.push(started.close);
    return started;
  };
  const authBroker = async (...args: Parameters<typeof startAuthBroker>): Promise<AuthBroker> => {
    const started = await startAuthBroker(...args);
    closers.push(started.close);
    return started;
  };
  const rawServer = async (onSocket: (socket: net.Socket) => void): Promise<RawServer> => {
    const started = await startRawServer(onSocket);
    closers.push(started.close);
    return started;
  };

  afterEach(async () => {
    jest.restoreAllMocks();
    for (const client of clients.splice(0)) await client.endAsync(true);
    for (const close of closers.splice(0)) await close();
  });

  describe('over plain TCP', () => {
    it('connectMqtt - connects and sends the CONNECT AWS IoT expects (client id, keep-alive 60, clean, MQTT 3.1.1)', async () => {
      const { connects, preConnect } = recordConnects();
      const b = await authBroker({ aedes: { preConnect } });
      const client = await connect({ url: b.url, clientId: 'thing-A' });
      expect(client.connected).toBe(true);
      expect(connects).toHaveLength(1);
      expect(connects[0]).toMatchObject({ clientId: 'thing-A', keepalive: 60, clean: true, protocolVersion: 4 });
    });

    it('connectMqtt - passes keepaliveSeconds and clean on to the CONNECT', async () => {
      const { connects, preConnect } = recordConnects();
      const b = await authBroker({ aedes: { preConnect } });
      await connect({ url: b.url, clientId: 'thing-A', keepaliveSeconds: 1200, clean: false });
      expect(connects[0]).toMatchObject({ clientId: 'thing-A', keepalive: 1200, clean: false });
    });

    it('connectMqtt - accepts the limits: a 128-byte client id, keep-alive 30 and 1200', async () => {
      const b = await broker();
      const multibyte = 'ü'.repeat(64);
      expect(Buffer.byteLength(multibyte)).toBe(128);
      expect((await connect({ url: b.url, clientId: multibyte, keepaliveSeconds: 30 })).connected).toBe(true);
      expect((await connect({ url: b.url, clientId: 'x'.repeat(128), keepaliveSeconds: 1200 })).connected).toBe(true);
    });

    it('connectMqtt - sets TCP_NODELAY: round trips are not held by Nagle, unlike a default mqtt.js client', async () => {
      const b = await broker();
      const control = await mqtt.connectAsync(b.url, { clientId: 'control', reconnectPeriod: 0 });
      clients.push(control);
      const client = await connect({ url: b.url, clientId: 'thing-A' });
      // The control shows the measurement can see Nagle here; the client under test must not show it.
      expect(await medianRoundTripMs(control, 'nodelay/control')).toBeGreaterThan(nagleMs);
      expect(await medianRoundTripMs(client, 'nodelay/client')).toBeLessThan(noNagleMs);
    });

    it('connectMqtt - TCP_NODELAY holds on the socket of a reconnect', async () => {
      const b = await broker();
      const client = await connect({ url: b.url, clientId: 'thing-A', reconnectPeriodMs: 50 });
      const firstStream = client.stream;
      let reconnects = 0;
      client.on('connect', () => (reconnects += 1));
      b.dropClients();
      await waitFor('the reconnect', () => reconnects === 1 && client.connected);
      expect(client.stream).not.toBe(firstStream);
      expect(await medianRoundTripMs(client, 'nodelay/reconnected')).toBeLessThan(noNagleMs);
    });
  });

  describe('bad options', () => {
    it.each<[string, (url: string) => ConnectMqttOptions, RegExp]>([
      ['an http:// URL', (url) => ({ url: url.replace('mqtt:', 'http:'), clientId: 'thing-A' }), /^url: /],
      ['a ws:// URL', (url) => ({ url: url.replace('mqtt:', 'ws:'), clientId: 'thing-A' }), /^url: /],
      ['a tcp:// URL', (url) => ({ url: url.replace('mqtt:', 'tcp:'), clientId: 'thing-A' }), /^url: /],
      ['no URL at all', () => ({ url: '127.0.0.1:1883', clientId: 'thing-A' }), /^url: /],
      ['a 129-byte client id', (url) => ({ url, clientId: 'x'.repeat(129) }), /^clientId: .*129/],
      ['65 two-byte characters (130 bytes)', (url) => ({ url, clientId: 'ü'.repeat(65) }), /^clientId: .*130/],
      ['an empty client id', (url) => ({ url, clientId: '' }), /^clientId: /],
      ['keep-alive 29', (url) => ({ url, clientId: 'thing-A', keepaliveSeconds: 29 }), /^keepaliveSeconds: .*29/],
      ['keep-alive 1201', (url) => ({ url, clientId: 'thing-A', keepaliveSeconds: 1201 }), /^keepaliveSeconds: .*1201/],
      ['keep-alive 0', (url) => ({ url, clientId: 'thing-A', keepaliveSeconds: 0 }), /^keepaliveSeconds: /],
      ['keep-alive 60.5', (url) => ({ url, clientId: 'thing-A', keepaliveSeconds: 60.5 }), /^keepaliveSeconds: /],
      ['a session expiry on MQTT 3.1.1', (url) => ({ url, clientId: 'thing-A', clean: false, sessionExpirySeconds: 60 }), /^sessionExpirySeconds: .*MQTT 5/],
      ['a session expiry over 7 days', (url) => ({ url, clientId: 'thing-A', protocolVersion: 5, clean: false, sessionExpirySeconds: 604_801 }), /^sessionExpirySeconds: .*604801/],
      ['a session expiry of -1', (url) => ({ url, clientId: 'thing-A', protocolVersion: 5, sessionExpirySeconds: -1 }), /^sessionExpirySeconds: /],
      ['a session expiry with clean: true', (url) => ({ url, clientId: 'thing-A', protocolVersion: 5, sessionExpirySeconds: 60 }), /^sessionExpirySeconds: .*clean: false/],
    ])('connectMqtt - rejects %s with InvalidRequestError before opening a socket', async (_what, options, issue) => {
      const server = await rawServer(() => undefined);
      const { error } = await failure(options(server.url));
      expect(error).toBeInstanceOf(InvalidRequestError);
      expect(error).toMatchObject({ issues: [expect.stringMatching(issue)] });
      await delay(50);
      expect(server.connections()).toBe(0);
    });

    it('connectMqtt - reports every bad option at once', async () => {
      const { error } = await failure({ url: 'https://127.0.0.1:1', clientId: '', keepaliveSeconds: 5 });
      expect(error).toBeInstanceOf(InvalidRequestError);
      expect(error).toMatchObject({
        issues: [expect.stringMatching(/^url: /), expect.stringMatching(/^clientId: /), expect.stringMatching(/^keepaliveSeconds: /)],
      });
    });
  });

  describe('failures before CONNACK', () => {
    it('connectMqtt - rejects with TransportError when the port refuses the connection', async () => {
      const port = await closedPort();
      const { error, elapsedMs } = await failure({ url: `mqtt://127.0.0.1:${port}`, clientId: 'thing-A', connectTimeoutMs: 5000 });
      expect(error).toBeInstanceOf(TransportError);
      expect(error).toMatchObject({ cause: { code: 'ECONNREFUSED' } });
      expect(elapsedMs).toBeLessThan(2000);
    });

    it('connectMqtt - rejects with TransportError, not hangs, when the server hangs up before CONNACK', async () => {
      const server = await rawServer((socket) => socket.destroy());
      const { error, elapsedMs } = await failure({ url: server.url, clientId: 'thing-A', connectTimeoutMs: 5000, reconnectPeriodMs: 20 });
      expect(error).toBeInstanceOf(TransportError);
      expect(elapsedMs).toBeLessThan(2000);
      // The failed client is ended: mqtt.js does not keep reconnecting in the background.
      await delay(200);
      expect(server.connections()).toBe(1);
    });

    it('connectMqtt - rejects with TransportError by connectTimeoutMs when nothing answers, and closes the socket', async () => {
      // Reads (and ignores) the CONNECT, so it sees the client hang up.
      const server = await rawServer((socket) => socket.resume());
      const { error, elapsedMs } = await failure({ url: server.url, clientId: 'thing-A', connectTimeoutMs: 300, reconnectPeriodMs: 20 });
      expect(error).toBeInstanceOf(TransportError);
      expect(elapsedMs).toBeGreaterThanOrEqual(250);
      expect(elapsedMs).toBeLessThan(1500);
      await waitFor('the server side of the socket to close', () => server.openSockets() === 0);
      await delay(200);
      expect(server.connections()).toBe(1);
    });
  });

  describe('over mutual TLS', () => {
    let dir: string;
    let pem: Readonly<Record<'ca' | 'serverCert' | 'serverKey' | 'clientCert' | 'clientKey' | 'otherCert' | 'otherKey', string>>;

    beforeAll(() => {
      // ../shared/spec/dependencies.md §6, plus a second CA that signs a device certificate nobody trusts.
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'iot-jobs-rx-tls-'));
      const openssl = (...args: string[]): void => {
        execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
      };
      const newKey = ['-newkey', 'rsa:2048', '-nodes'];
      fs.writeFileSync(path.join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
      fs.writeFileSync(path.join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
      openssl('req', '-x509', ...newKey, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '3650', '-subj', '/CN=Test Jobs CA');
      openssl('req', ...newKey, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost');
      openssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '3650', '-extfile', 'server.ext');
      openssl('req', ...newKey, '-keyout', 'client.key', '-out', 'client.csr', '-subj', '/CN=thing-A');
      openssl('x509', '-req', '-in', 'client.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'client.crt', '-days', '3650', '-extfile', 'client.ext');
      openssl('req', '-x509', ...newKey, '-keyout', 'other-ca.key', '-out', 'other-ca.crt', '-days', '3650', '-subj', '/CN=Other CA');
      openssl('req', ...newKey, '-keyout', 'other.key', '-out', 'other.csr', '-subj', '/CN=thing-A');
      openssl('x509', '-req', '-in', 'other.csr', '-CA', 'other-ca.crt', '-CAkey', 'other-ca.key', '-CAcreateserial', '-out', 'other.crt', '-days', '3650', '-extfile', 'client.ext');
      const read = (file: string): string => fs.readFileSync(path.join(dir, file), 'utf8');
      pem = {
        ca: read('ca.crt'),
        serverCert: read('server.crt'),
        serverKey: read('server.key'),
        clientCert: read('client.crt'),
        clientKey: read('client.key'),
        otherCert: read('other.crt'),
        otherKey: read('other.key'),
      };
    });

    afterAll(() => {
      fs.rmSync(dir, { recursive: true, force: true });
    });

    /** An aedes broker behind `tls.createServer` demanding a client certificate from our CA, as AWS IoT does. */
    const tlsBroker = async (): Promise<{ broker: AuthBroker; commonNames: string[] }> => {
      const commonNames: string[] = [];
      const started = await authBroker({
        tls: {
          ca: pem.ca,
          cert: pem.serverCert,
          key: pem.serverKey,
          requestCert: true,
          rejectUnauthorized: true,
          ALPNProtocols: ['x-amzn-mqtt-ca', 'mqtt'],
        },
        aedes: {
          authenticate: (client, _username, _password, done) => {
            const cn = client.conn instanceof tls.TLSSocket ? client.conn.getPeerCertificate().subject.CN : undefined;
            commonNames.push(typeof cn === 'string' ? cn : 'no certificate');
            done(null, true);
          },
        },
      });
      return { broker: started, commonNames };
    };

    it('connectMqtt - mutual TLS with the device certificate connects; the broker reads the thing name from its CN', async () => {
      const { broker: b, commonNames } = await tlsBroker();
      const client = await connect({ url: b.url, clientId: 'thing-A', ca: pem.ca, cert: pem.clientCert, key: pem.clientKey });
      expect(client.connected).toBe(true);
      expect(commonNames).toEqual(['thing-A']);
    });

    it('connectMqtt - mutual TLS without a client certificate fails with TransportError by its deadline', async () => {
      const { broker: b, commonNames } = await tlsBroker();
      const { error, elapsedMs } = await failure({ url: b.url, clientId: 'thing-A', ca: pem.ca, connectTimeoutMs: 3000 });
      expect(error).toBeInstanceOf(TransportError);
      expect(elapsedMs).toBeLessThan(3500);
      expect(commonNames).toEqual([]);
    });

    it('connectMqtt - mutual TLS with a certificate from another CA fails with TransportError by its deadline', async () => {
      const { broker: b, commonNames } = await tlsBroker();
      const { error, elapsedMs } = await failure({
        url: b.url,
        clientId: 'thing-A',
        ca: pem.ca,
        cert: pem.otherCert,
        key: pem.otherKey,
        connectTimeoutMs: 3000,
      });
      expect(error).toBeInstanceOf(TransportError);
      expect(elapsedMs).toBeLessThan(3500);
      expect(commonNames).toEqual([]);
    });

    it('connectMqtt - verifies the server certificate by default: without ca the test CA is not trusted', async () => {
      const { broker: b, commonNames } = await tlsBroker();
      const { error } = await failure({ url: b.url, clientId: 'thing-A', cert: pem.clientCert, key: pem.clientKey, connectTimeoutMs: 3000 });
      expect(error).toBeInstanceOf(TransportError);
      expect(error).toMatchObject({ cause: { code: 'SELF_SIGNED_CERT_IN_CHAIN' } });
      expect(commonNames).toEqual([]);
    });

    it('connectMqtt - sets TCP_NODELAY on TLS connections too', async () => {
      const { broker: b } = await tlsBroker();
      const client = await connect({ url: b.url, clientId: 'thing-A', ca: pem.ca, cert: pem.clientCert, key: pem.clientKey });
      expect(await medianRoundTripMs(client, 'nodelay/tls')).toBeLessThan(noNagleMs);
    });

    it('connectMqtt - sends SNI with a host name, none with an IP address', async () => {
      const { broker: b } = await tlsBroker();
      const tlsOptions = { clientId: 'thing-A', ca: pem.ca, cert: pem.clientCert, key: pem.clientKey };
      await connect({ ...tlsOptions, url: b.url });
      await connect({ ...tlsOptions, url: b.url.replace('127.0.0.1', 'localhost') });
      expect(b.serverNames()).toEqual([false, 'localhost']);
    });

    it('connectMqtt - offers the ALPN protocols it is given (x-amzn-mqtt-ca), none by default off port 443', async () => {
      const { broker: b } = await tlsBroker();
      const tlsOptions = { url: b.url, ca: pem.ca, cert: pem.clientCert, key: pem.clientKey };
      await connect({ ...tlsOptions, clientId: 'thing-A', alpnProtocols: ['x-amzn-mqtt-ca'] });
      await connect({ ...tlsOptions, clientId: 'thing-B' });
      expect(b.alpnProtocols()).toEqual(['x-amzn-mqtt-ca', false]);
    });

    it('connectMqtt - on port 443 offers ALPN x-amzn-mqtt-ca by default (observed on tls.connect: 443 cannot be bound here)', async () => {
      const connectSpy = jest.spyOn(tls, 'connect');
      const options = { clientId: 'thing-A', ca: pem.ca, cert: pem.clientCert, key: pem.clientKey, connectTimeoutMs: 1000, reconnectPeriodMs: 0 };
      expect((await failure({ ...options, url: 'mqtts://127.0.0.1:443' })).error).toBeInstanceOf(TransportError);
      expect((await failure({ ...options, url: 'mqtts://127.0.0.1:8883' })).error).toBeInstanceOf(TransportError);
      const [on443, on8883]: unknown[] = connectSpy.mock.calls.map(([first]) => first);
      expect(on443).toMatchObject({ port: 443, ALPNProtocols: ['x-amzn-mqtt-ca'] });
      expect(on8883).toMatchObject({ port: 8883 });
      expect(on8883).not.toHaveProperty('ALPNProtocols');
    });
  });
});
