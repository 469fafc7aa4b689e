import type { MqttClient } from 'mqtt';
import { Observable, Subject, firstValueFrom, from, ignoreElements, mergeMap, race, share, takeUntil, timer } from './rx';
import { createJobsClient, type JobsClient } from '../client';
import { connectMqtt } from '../transport/connect-mqtt';
import { httpsTransport } from '../transport/https';
import { fromMqttClient } from '../transport/mqtt-js-port';
import { mqttTransport } from '../transport/mqtt';
import type { ConnectionSettings } from './connection-settings';

/** Options of {@link openJobsClient}. */
export interface OpenJobsClientOptions {
  /** MQTT: pause between reconnect attempts after a lost connection. Default 5 000 ms; 0 does not reconnect. */
  readonly reconnectPeriodMs?: number;
  /** MQTT: how long an idle reply subscription is kept. Default 30 000 ms (released at once on close). */
  readonly lingerMs?: number;
  /** HTTPS: pause between the polls that synthesise `notify` and `notify-next`. Default 60 000 ms. */
  readonly pollIntervalMs?: number;
  /** MQTT: how long `close()` waits for a clean DISCONNECT before dropping the socket. Default 2 000 ms. */
  readonly closeGraceMs?: number;
  /** Take the caller's frames for a RequestTimeoutError (`createJobsClient`'s `callerStacks`). Default false. */
  readonly callerStacks?: boolean;
}

/** An open client: use it, then `close()` it so the process can exit. */
export interface OpenedJobsClient {
  readonly client: JobsClient;
  /** Emits each time the MQTT connection comes back after a loss; never emits over HTTPS; completes on close. */
  readonly reconnected$: Observable<void>;
  /** Ends the connection (MQTT) and stops `reconnected$`. Idempotent; never rejects. */
  readonly close: () => Promise<void>;
}

const openMqtt = async (settings: ConnectionSettings, options: OpenJobsClientOptions): Promise<OpenedJobsClient> => {
  const mqtt: MqttClient = await connectMqtt({
    url: settings.endpoint,
    clientId: settings.clientId,
    ...settings.tls,
    connectTimeoutMs: settings.timeoutMs,
    reconnectPeriodMs: options.reconnectPeriodMs ?? 5_000,
  });
  const port = fromMqttClient(mqtt);
  // connectMqtt resolved on the first CONNACK, before the port watched: every `up` seen here is a reconnect.
  const connection$ = port.connection$;
  const reconnected$ = new Observable<void>((subscriber) =>
    connection$.subscribe((state) => {
      if (state === 'end') subscriber.complete();
      else if (state === 'up') subscriber.next();
    }),
  ).pipe(share());
  const graceMs = options.closeGraceMs ?? 2_000;
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= firstValueFrom(
      race(from(mqtt.endAsync()), timer(graceMs).pipe(mergeMap(() => mqtt.endAsync(true)))),
      { defaultValue: undefined },
    ).then(
      () => undefined,
      () => undefined,
    ));
  // Options are checked here, after the connection is up: a bad one must still close it.
  try {
    const transport = mqttTransport(port, options.lingerMs === undefined ? {} : { lingerMs: options.lingerMs });
    return { client: createJobsClient({ thingName: settings.thingName, transport, timeoutMs: settings.timeoutMs, callerStacks: options.callerStacks ?? false }), reconnected$, close };
  } catch (error) {
    await close();
    throw error;
  }
};

const openHttps = (settings: ConnectionSettings, options: OpenJobsClientOptions): OpenedJobsClient => {
  const transport = httpsTransport({
    endpoint: settings.endpoint,
    tls: settings.tls,
    ...(settings.region === undefined ? {} : { region: settings.region }),
    ...(settings.credentials === undefined ? {} : { credentials: settings.credentials }),
    ...(options.pollIntervalMs === undefined ? {} : { pollIntervalMs: options.pollIntervalMs }),
    pollTimeoutMs: settings.timeoutMs,
  });
  const closed$ = new Subject<void>();
  return {
    client: createJobsClient({ thingName: settings.thingName, transport, timeoutMs: settings.timeoutMs, callerStacks: options.callerStacks ?? false }),
    // Idle keep-alive sockets are unref'd by Node's agent: nothing to end over HTTPS.
    reconnected$: new Subject<void>().pipe(takeUntil(closed$), ignoreElements()),
    close: () => {
      closed$.next();
      closed$.complete();
      return Promise.resolve();
    },
  };
};

/**
 * Opens a Jobs client with resolved settings (`resolveConnection`): over MQTT with `connectMqtt()` (client
 * id, mutual TLS, connect deadline = `timeoutMs`, mqtt.js reconnecting), or over HTTPS with
 * `httpsTransport()` (SigV4, or the device certificate when there are no credentials). Errors: rejects with
 * TransportError when the MQTT connection fails or times out, InvalidRequestError for options the
 * transport refuses.
 * @example
 * const { client, close } = await openJobsClient(resolveConnection(connectionFlagsOf(command.opts()), io));
 * try { console.log(await firstValueFrom(client.getPendingJobExecutions())); } finally { await close(); }
 */
export const openJobsClient = async (settings: ConnectionSettings, options: OpenJobsClientOptions = {}): Promise<OpenedJobsClient> =>
  settings.protocol === 'mqtt' ? openMqtt(settings, options) : openHttps(settings, options);
