import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { openGate } from '../../src/emulator/device-gate';
import { notificationMessage, serviceReply, type ServiceMessage } from '../../src/emulator/mqtt/service-reply';
import { createJobsService, type JobsService } from '../../src/emulator/service';

/**
 * Mosquitto (Debian's `mosquitto` package, installed by .ci/run) as a child process on a free loopback port:
 * the broker for MQTT 5, for TLS from OpenSSL rather than Node, and for a broker that restarts.
 */

/** Where the binary is, or undefined when it is not installed. */
export const mosquittoPath = ((): string | undefined => {
  for (const path of ['/usr/sbin/mosquitto', '/usr/local/sbin/mosquitto', '/opt/homebrew/sbin/mosquitto']) {
    if (spawnSync(path, ['-h']).error === undefined) return path;
  }
  return undefined;
})();

/** TLS files for the broker's listener: it then asks every client for a certificate signed by `ca`. */
export interface MosquittoTls {
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}

export interface Mosquitto {
  readonly url: string;
  readonly port: number;
  /** Stops the broker (SIGTERM) and starts it again on the same port; every connection drops. */
  readonly restart: () => Promise<void>;
  readonly stop: () => Promise<void>;
}

const freePort = async (): Promise<number> => {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => { resolve(); }));
  if (typeof address !== 'object' || address === null) throw new Error('no free port');
  return address.port;
};

const accepts = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => { resolve(false); });
  });

const exited = (child: ChildProcess): Promise<void> =>
  child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once('exit', () => { resolve(); }));

/** Starts mosquitto; resolves once its port accepts connections (rejects after 5 s with its output). */
export const startMosquitto = async (options: { readonly tls?: MosquittoTls } = {}): Promise<Mosquitto> => {
  if (mosquittoPath === undefined) throw new Error('mosquitto is not installed (apt-get install mosquitto)');
  const binary = mosquittoPath;
  const dir = mkdtempSync(join(tmpdir(), 'mosquitto-'));
  const port = await freePort();
  const lines = [
    `listener ${port} 127.0.0.1`,
    'allow_anonymous true',
    'persistence false',
    'log_dest stderr',
    'log_type error',
    'log_type warning',
    // Started as root it would switch to the `mosquitto` user, which cannot read the test's files.
    'user root',
  ];
  if (options.tls !== undefined) lines.push(`cafile ${options.tls.ca}`, `certfile ${options.tls.cert}`, `keyfile ${options.tls.key}`, 'require_certificate true');
  const config = join(dir, 'mosquitto.conf');
  writeFileSync(config, `${lines.join('\n')}\n`);
  let child: ChildProcess | undefined;
  let output = '';
  const start = async (): Promise<void> => {
    const started = spawn(binary, ['-c', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    started.stderr.on('data', (chunk: Buffer) => { output += chunk.toString(); });
    child = started;
    const deadline = Date.now() + 5000;
    while (!(await accepts(port))) {
      if (started.exitCode !== null || Date.now() > deadline) {
        started.kill('SIGKILL');
        throw new Error(`mosquitto did not start on ${port}: ${output}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  const stop = async (): Promise<void> => {
    const running = child;
    child = undefined;
    if (running === undefined) return;
    running.kill('SIGTERM');
    await exited(running);
  };
  await start();
  return {
    url: `${options.tls === undefined ? 'mqtt' : 'mqtts'}://127.0.0.1:${port}`,
    port,
    restart: async () => {
      await stop();
      await start();
    },
    stop: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
};

/** The emulator's Jobs service answering on another broker, as one more MQTT client of it. */
export interface BridgedService {
  readonly service: JobsService;
  readonly close: () => Promise<void>;
}

/**
 * Connects the emulator's Jobs service (engine, replies, notifications) to the broker at `url` as a client
 * that answers every device request under `$aws/things/+/jobs/#`, and reconnects with the broker.
 */
export const bridgeJobsService = async (url: string, options: mqtt.IClientOptions = {}): Promise<BridgedService> => {
  const service = createJobsService();
  const client: MqttClient = await mqtt.connectAsync(url, { clientId: 'jobs-service', reconnectPeriod: 50, ...options });
  const publish = (message: ServiceMessage | undefined): void => {
    if (message !== undefined) client.publish(message.topic, JSON.stringify(message.body), { qos: 1 });
  };
  client.on('message', (topic, payload) => {
    publish(serviceReply(service.engine, openGate, topic, payload, new Date(service.now())));
  });
  await client.subscribeAsync('$aws/things/+/jobs/#', { qos: 1 });
  const notifications = service.notifications$.subscribe((n) => { publish(notificationMessage(n)); });
  return {
    service,
    close: async () => {
      notifications.unsubscribe();
      service.stop();
      await client.endAsync(true);
    },
  };
};
