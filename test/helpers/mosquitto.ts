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

/** Where the binary is (on PATH, or in Debian's or Homebrew's sbin), or undefined when it is not installed. */
export const mosquittoPath = ((): string | undefined => {
  for (const path of ['mosquitto', '/usr/sbin/mosquitto', '/usr/local/sbin/mosquitto', '/opt/homebrew/sbin/mosquitto']) {
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
  /** Stops the broker process (SIGTERM); every connection drops and every session is lost. */
  readonly halt: () => Promise<void>;
  /** Starts it again on the same port, after {@link halt}. */
  readonly resume: () => Promise<void>;
  /** Stops the broker and removes its files. */
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

const exited = (child: ChildProcess): Promise<void> =>
  child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once('exit', () => { resolve(); }));

/** Starts mosquitto; resolves once it says it listens on its port (rejects after 5 s with its output). */
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
    'log_type information',
    // Started as root it would switch to the `mosquitto` user, which cannot read the test's files.
    'user root',
  ];
  if (options.tls !== undefined) lines.push(`cafile ${options.tls.ca}`, `certfile ${options.tls.cert}`, `keyfile ${options.tls.key}`, 'require_certificate true');
  const config = join(dir, 'mosquitto.conf');
  writeFileSync(config, `${lines.join('\n')}\n`);
  let child: ChildProcess | undefined;
  // Its own word that it listens: a bare connect test could reach another process that took the port.
  const listening = (output: string): boolean => output.includes(`listen socket on port ${port}.`) && output.includes(' running');
  const start = (): Promise<void> =>
    new Promise((resolve, reject) => {
      let output = '';
      const started = spawn(binary, ['-c', config], { stdio: ['ignore', 'ignore', 'pipe'] });
      child = started;
      const fail = (why: string): void => {
        clearTimeout(deadline);
        started.kill('SIGKILL');
        reject(new Error(`mosquitto did not start on ${port}: ${why}\n${output}`));
      };
      const deadline = setTimeout(() => { fail('no listen socket within 5 s'); }, 5000);
      started.stderr.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (listening(output)) {
          clearTimeout(deadline);
          resolve();
        }
      });
      started.once('exit', (code) => {
        if (!listening(output)) fail(`exited with ${String(code)}`);
      });
    });
  const halt = async (): Promise<void> => {
    const running = child;
    child = undefined;
    if (running === undefined) return;
    running.kill('SIGTERM');
    await exited(running);
  };
  try {
    await start();
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    url: `${options.tls === undefined ? 'mqtt' : 'mqtts'}://127.0.0.1:${port}`,
    port,
    halt,
    resume: start,
    stop: async () => {
      await halt();
      rmSync(dir, { recursive: true, force: true });
    },
  };
};

/** The emulator's Jobs service answering on another broker, as one more MQTT client of it. */
export interface BridgedService {
  readonly service: JobsService;
  /** Holds the device messages that come from now on, unanswered, until {@link resume}: a slow service. */
  readonly pause: () => void;
  /** Answers the messages held, in order, and the next ones at once. */
  readonly resume: () => void;
  readonly close: () => Promise<void>;
}

/**
 * Connects the emulator's Jobs service (engine, replies, notifications) to the broker at `url` as a client
 * that answers every device request under `$aws/things/+/jobs/#`, and reconnects with the broker.
 */
export const bridgeJobsService = async (url: string, options: mqtt.IClientOptions = {}): Promise<BridgedService> => {
  const service = createJobsService();
  const client: MqttClient = await mqtt.connectAsync(url, { clientId: 'jobs-service', reconnectPeriod: 50, protocolVersion: 5, ...options });
  const publish = (message: ServiceMessage | undefined): void => {
    if (message !== undefined) client.publish(message.topic, JSON.stringify(message.body), { qos: 1 });
  };
  const answer = (topic: string, payload: Buffer): void => {
    publish(serviceReply(service.engine, openGate, topic, payload, new Date(service.now())));
  };
  let held: [string, Buffer][] | undefined;
  client.on('message', (topic, payload) => {
    if (held === undefined) answer(topic, payload);
    else held.push([topic, payload]);
  });
  // No Local: the service must not get its own replies back (it would answer `…/rejected/rejected`, and so on).
  await client.subscribeAsync('$aws/things/+/jobs/#', { qos: 1, nl: true });
  const notifications = service.notifications$.subscribe((n) => { publish(notificationMessage(n)); });
  return {
    service,
    pause: () => {
      held ??= [];
    },
    resume: () => {
      const messages = held ?? [];
      held = undefined;
      for (const [topic, payload] of messages) answer(topic, payload);
    },
    close: async () => {
      notifications.unsubscribe();
      service.stop();
      await client.endAsync(true);
    },
  };
};
