import * as net from 'node:net';
import * as tls from 'node:tls';
import type { IClientOptions, MqttClient } from 'mqtt';
import { timer } from '../rx';
import { InvalidRequestError, TransportError } from '../errors';
import { isTimerMs, maxTimerMs } from '../util/timer-limit';

// mqtt.js is loaded on the first connect, so a device that only uses HTTPS never pays for it (~35–40 ms of
// require; docs/benchmarks.md, HTTPS cold start).
let mqttModule: Promise<typeof import('mqtt')> | undefined;
const loadMqtt = () =>
  (mqttModule ??= import('mqtt').catch((error: unknown) => {
    mqttModule = undefined; // a failed load is tried again on the next connect
    throw error;
  }));

/** Options of {@link connectMqtt}. Defaults follow AWS IoT Core (../shared/spec/aws-iot-connection.md). */
export interface ConnectMqttOptions {
  /**
   * Broker URL: `mqtt://host:port` (plain TCP, default port 1883) or `mqtts://host:port` (TLS, default
   * 8883). For AWS IoT Core: `mqtts://<prefix>-ats.iot.<region>.amazonaws.com` on 8883, or on 443 (ALPN
   * `x-amzn-mqtt-ca` is then added for you).
   */
  readonly url: string;
  /** MQTT client id, at most 128 bytes; AWS IoT policies usually require the thing name. */
  readonly clientId: string;
  /** Device certificate (PEM) for mutual TLS. */
  readonly cert?: string | Buffer;
  /** Device private key (PEM) for mutual TLS. Never logged. */
  readonly key?: string | Buffer;
  /** CA certificates (PEM) to trust instead of Node's default list (e.g. AmazonRootCA1 + CA3). */
  readonly ca?: string | Buffer | readonly (string | Buffer)[];
  /** ALPN protocols; default `['x-amzn-mqtt-ca']` on `mqtts` port 443, none otherwise. */
  readonly alpnProtocols?: readonly string[];
  /** Keep-alive in seconds, 30–1200 as AWS IoT allows. Default 60. */
  readonly keepaliveSeconds?: number;
  /** Deadline for the first CONNACK: an integer 1–2 147 483 647 ms. Default 10 000 ms. */
  readonly connectTimeoutMs?: number;
  /** Pause between reconnect attempts (mqtt.js reconnects): an integer 0–2 147 483 647 ms. Default 5 000 ms; 0 turns reconnecting off. */
  readonly reconnectPeriodMs?: number;
  /**
   * MQTT clean session / clean start. Default true. False resumes the session the broker kept (its
   * subscriptions, and QoS 1 messages that came while offline): on MQTT 3.1.1 for as long as the broker keeps
   * sessions (AWS IoT: an hour by default), on MQTT 5 for `sessionExpirySeconds`.
   */
  readonly clean?: boolean;
  /** MQTT protocol level: 4 (3.1.1, default) or 5. */
  readonly protocolVersion?: 4 | 5;
  /**
   * MQTT 5 only: how long the broker keeps the session after a disconnect, 0–604 800 s (AWS IoT's 7 days;
   * it lowers a value above the account's limit, an hour by default); above 0 only with `clean: false`.
   * Default 3 600 with `clean: false`, and 0 otherwise: MQTT 5 keeps no session unless asked.
   */
  readonly sessionExpirySeconds?: number;
}

const clientIdMaxBytes = 128;
/** AWS IoT's longest MQTT 5 session expiry: 7 days. */
const sessionExpiryMaxSeconds = 604_800;

const validate = (options: ConnectMqttOptions, url: URL): string[] => {
  const issues: string[] = [];
  if (url.protocol !== 'mqtt:' && url.protocol !== 'mqtts:') issues.push(`url: expected mqtt:// or mqtts://, got ${url.protocol}//`);
  const idBytes = Buffer.byteLength(options.clientId, 'utf8');
  if (idBytes < 1 || idBytes > clientIdMaxBytes) issues.push(`clientId: expected 1-${clientIdMaxBytes} bytes, got ${idBytes}`);
  const keepalive = options.keepaliveSeconds ?? 60;
  if (!Number.isInteger(keepalive) || keepalive < 30 || keepalive > 1200) {
    issues.push(`keepaliveSeconds: expected an integer 30-1200 (AWS IoT's range), got ${keepalive}`);
  }
  // Node runs a timer of 2^31 ms or more after 1 ms: a connect deadline would pass at once.
  const { connectTimeoutMs, reconnectPeriodMs } = options;
  if (connectTimeoutMs !== undefined && !isTimerMs(connectTimeoutMs, 1)) issues.push(`connectTimeoutMs: expected an integer 1-${maxTimerMs}, got ${String(connectTimeoutMs)}`);
  if (reconnectPeriodMs !== undefined && !isTimerMs(reconnectPeriodMs, 0)) issues.push(`reconnectPeriodMs: expected an integer 0-${maxTimerMs}, got ${String(reconnectPeriodMs)}`);
  const expiry = options.sessionExpirySeconds;
  if (expiry !== undefined) {
    if ((options.protocolVersion ?? 4) !== 5) issues.push('sessionExpirySeconds: MQTT 5 only (protocolVersion: 5); on 3.1.1 the broker sets it');
    else if (!Number.isInteger(expiry) || expiry < 0 || expiry > sessionExpiryMaxSeconds) {
      issues.push(`sessionExpirySeconds: expected an integer 0-${sessionExpiryMaxSeconds}, got ${expiry}`);
    } else if (expiry > 0 && options.clean !== false) {
      // Every reconnect would start afresh, and the broker would keep a session nobody resumes after end().
      issues.push('sessionExpirySeconds: a session is only resumed with clean: false');
    }
  }
  return issues;
};

/** MQTT 5's session expiry with `clean: false` when none is given: AWS IoT's default account limit. */
const defaultSessionExpirySeconds = 3600;

/** The Session Expiry Interval of an MQTT 5 CONNECT; undefined for 3.1.1 or when it is 0 (the default). */
const sessionExpiryOf = (options: ConnectMqttOptions): number | undefined => {
  if ((options.protocolVersion ?? 4) !== 5) return undefined;
  const seconds = options.sessionExpirySeconds ?? (options.clean === false ? defaultSessionExpirySeconds : 0);
  return seconds === 0 ? undefined : seconds;
};

/** The device certificate, its key and the CAs to trust, as node:tls takes them. */
const secureContextOptions = (options: ConnectMqttOptions): tls.SecureContextOptions => ({
  ...(options.cert === undefined ? {} : { cert: options.cert }),
  ...(options.key === undefined ? {} : { key: options.key }),
  ...(options.ca === undefined ? {} : { ca: typeof options.ca === 'string' || Buffer.isBuffer(options.ca) ? options.ca : [...options.ca] }),
});

/** Opens the socket for every (re)connect, with TCP_NODELAY: without it each round trip waits ~40-90 ms. */
const streamBuilder = (options: ConnectMqttOptions, url: URL) => (): net.Socket => {
  const secure = url.protocol === 'mqtts:';
  // URL keeps an IPv6 literal's brackets ("[::1]"); the socket wants the address alone.
  const host = url.hostname.startsWith('[') && url.hostname.endsWith(']') ? url.hostname.slice(1, -1) : url.hostname;
  const port = url.port === '' ? (secure ? 8883 : 1883) : Number(url.port);
  if (!secure) return net.connect({ host, port, noDelay: true });
  const alpn = options.alpnProtocols ?? (port === 443 ? ['x-amzn-mqtt-ca'] : undefined);
  const socket = tls.connect({
    host,
    port,
    servername: net.isIP(host) === 0 ? host : undefined,
    rejectUnauthorized: true,
    ...secureContextOptions(options),
    ...(alpn === undefined ? {} : { ALPNProtocols: [...alpn] }),
  });
  socket.setNoDelay(true);
  return socket;
};

// Connection errors after the first CONNACK: mqtt.js retries; the transport sees them as 'down' and 'up'.
const ignoreReconnectError = (): void => undefined;

/**
 * Connects an mqtt.js client the way AWS IoT Core wants it: mutual TLS, ALPN on port 443, client id and
 * keep-alive within AWS's limits, TCP_NODELAY on every connect and reconnect. Resolves once the broker
 * accepts (CONNACK); rejects with TransportError if the connection fails, closes before CONNACK (where
 * `mqtt.connectAsync` would hang) or times out, and with InvalidRequestError for bad options. The client
 * then reconnects by itself; pass it to `mqttTransport()`, and call `end()` when done.
 * @example
 * const client = await connectMqtt({ url: 'mqtts://abc-ats.iot.eu-west-1.amazonaws.com', clientId: 'thing-A', cert, key, ca });
 */
export const connectMqtt = (options: ConnectMqttOptions): Promise<MqttClient> => {
  let url: URL;
  try {
    url = new URL(options.url);
  } catch {
    return Promise.reject(new InvalidRequestError([`url: not a URL: ${JSON.stringify(options.url)}`]));
  }
  const issues = validate(options, url);
  if (issues.length > 0) return Promise.reject(new InvalidRequestError(issues));
  // Certificates and keys are read once here: later, in mqtt.js's stream builder, a bad one would throw a bare
  // OpenSSL Error ("no start line", "key values mismatch") at each connect.
  if (url.protocol === 'mqtts:') {
    try {
      tls.createSecureContext(secureContextOptions(options));
    } catch (error) {
      return Promise.reject(new InvalidRequestError([`cert, key, ca: not usable PEM: ${error instanceof Error ? error.message : String(error)}`]));
    }
  }
  const sessionExpiry = sessionExpiryOf(options);
  const mqttOptions: IClientOptions = {
    ...(sessionExpiry === undefined ? {} : { properties: { sessionExpiryInterval: sessionExpiry } }),
    clientId: options.clientId,
    keepalive: options.keepaliveSeconds ?? 60,
    connectTimeout: options.connectTimeoutMs ?? 10_000,
    reconnectPeriod: options.reconnectPeriodMs ?? 5_000,
    clean: options.clean ?? true,
    protocolVersion: options.protocolVersion ?? 4,
    resubscribe: true,
    // mqtt-packet's write cache builds 65 536 buffers on the first packet: ~30 ms and ~9 MiB on a device.
    writeCache: false,
  };
  const connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
  return loadMqtt().then((mqtt) => new Promise<MqttClient>((resolve, reject) => {
    const client = new mqtt.MqttClient(streamBuilder(options, url), mqttOptions);
    // Our own deadline as well: a SYN into the void never reaches mqtt.js's CONNACK timer.
    const deadline = timer(connectTimeoutMs).subscribe(() => {
      settle(new TransportError(`no CONNACK from ${url.host} within ${connectTimeoutMs} ms`));
    });
    const settle = (error?: TransportError): void => {
      deadline.unsubscribe();
      client.removeListener('connect', onConnect);
      client.removeListener('error', onError);
      client.removeListener('close', onClose);
      if (error === undefined) {
        // From now on mqtt.js reconnects by itself and reports each failed attempt as an 'error' event;
        // an EventEmitter with no 'error' listener would crash the process on the first one.
        client.on('error', ignoreReconnectError);
        resolve(client);
        return;
      }
      client.end(true);
      reject(error);
    };
    const onConnect = (): void => {
      settle();
    };
    const onError = (error: Error): void => {
      settle(new TransportError(`cannot connect to ${url.host}: ${error.message}`, { cause: error }));
    };
    // Closing before CONNACK without an 'error' (e.g. a TLS 1.3 server refusing the client certificate,
    // or AWS IoT refusing the policy) must fail the connect instead of hanging.
    const onClose = (): void => {
      settle(new TransportError(`connection to ${url.host} closed before the broker accepted it (check certificate, policy and client id)`));
    };
    client.on('connect', onConnect);
    client.on('error', onError);
    client.on('close', onClose);
  }));
};
