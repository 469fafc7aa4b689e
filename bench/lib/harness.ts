/**
 * What bench/run.ts, bench/profile.ts and bench/overhead.ts share: the server child, the three clients under test and the
 * two bounded measuring loops (sequential, N in flight).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { createInterface } from 'node:readline';
import mqtt, { type MqttClient } from 'mqtt';
import { firstValueFrom } from 'rxjs';
import type * as Library from '../../src/index';
import { benchJobId } from './config';
import { median } from './stats';

export const root = path.resolve(__dirname, '../..');
export const requestTimeoutMs = 10_000;

/**
 * The build of ours under test: dist/index.js, or another CommonJS build named by BENCH_DIST (a directory
 * holding index.js, or the file), e.g. to compare a candidate fix against the current build.
 */
export const oursEntry = path.resolve(root, process.env.BENCH_DIST ?? 'dist');

// ------------------------------------------------------------------------------------ small utilities

/** A build to compare: `<dir>`, `<dir>:stacks` (`callerStacks: true`) or `<dir>:nostacks` (`callerStacks: false`). */
export interface BuildSpec {
  readonly label: string;
  readonly dir: string;
  readonly callerStacks: boolean | undefined;
}

/** Reads a build argument of bench/ab.ts or bench/overhead.ts. */
export const buildSpec = (arg: string): BuildSpec => {
  const [, dir = arg, suffix] = /^(.*?)(?::(stacks|nostacks))?$/u.exec(arg) ?? [];
  return { label: arg, dir: path.resolve(root, dir), callerStacks: suffix === undefined ? undefined : suffix === 'stacks' };
};

export const log = (text: string): void => {
  process.stderr.write(`${text}\n`);
};

export const withTimeout = <T>(what: string, timeoutMs: number, promise: Promise<T>): Promise<T> =>
  new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`${what}: no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });

/** `--name N` from the command line: a positive integer, or `fallback` when the flag is absent. */
export const intFlag = (name: string, fallback: number): number => {
  const index = process.argv.indexOf(`--${name}`);
  const value = index < 0 ? undefined : Number(process.argv[index + 1]);
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name}: expected a positive integer`);
  return value;
};

export const cpuMs = (usage: NodeJS.CpuUsage): number => (usage.user + usage.system) / 1000;

/** One request: resolves when its correlated reply came. */
export type Requester = () => Promise<void>;

export interface SequentialResult {
  readonly samples: number[];
  readonly cpuMs: number;
}

export const sequential = async (requester: Requester, count: number): Promise<SequentialResult> => {
  const samples: number[] = [];
  const cpu = process.cpuUsage();
  for (let i = 0; i < count; i += 1) {
    const start = performance.now();
    await requester();
    samples.push(performance.now() - start);
  }
  return { samples, cpuMs: cpuMs(process.cpuUsage(cpu)) };
};

/**
 * `count` sequential requests of each client, one request of each in turn, the order rotating so that each
 * client follows every other equally often. Drift on a shared machine then hits every client alike at the
 * scale of one round trip rather than of a block of them, and every client's request finds the caches as the
 * others' requests left them, as a device's sparse requests do. CPU per client is summed per request.
 */
export const alternating = async (requesters: readonly Requester[], count: number): Promise<SequentialResult[]> => {
  const samples = requesters.map((): number[] => []);
  const cpu = requesters.map(() => 0);
  for (let i = 0; i < count; i += 1) {
    for (let j = 0; j < requesters.length; j += 1) {
      const k = (i + j) % requesters.length;
      const requester = requesters[k];
      if (requester === undefined) continue;
      const before = process.cpuUsage();
      const start = performance.now();
      await requester();
      samples[k]?.push(performance.now() - start);
      cpu[k] = (cpu[k] ?? 0) + cpuMs(process.cpuUsage(before));
    }
  }
  return samples.map((s, k) => ({ samples: s, cpuMs: cpu[k] ?? 0 }));
};

/** Ratio of medians of `xs` to `base` in each of `parts` consecutive slices (for alternated samples): the spread. */
export const sliceRatios = (xs: readonly number[], base: readonly number[], parts: number): number[] => {
  const size = Math.ceil(base.length / parts);
  return Array.from({ length: parts }, (_, p) => median(xs.slice(p * size, (p + 1) * size)) / median(base.slice(p * size, (p + 1) * size)));
};

export interface FlightResult {
  readonly samples: number[];
  readonly elapsedMs: number;
  readonly cpuMs: number;
  readonly perSecond: number;
}

/** `total` requests, `concurrency` of them in flight at any time. */
export const inFlight = async (requester: Requester, total: number, concurrency: number): Promise<FlightResult> => {
  const samples: number[] = [];
  let started = 0;
  const cpu = process.cpuUsage();
  const start = performance.now();
  const worker = async (): Promise<void> => {
    while (started < total) {
      started += 1;
      const t0 = performance.now();
      await requester();
      samples.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, worker));
  const elapsedMs = performance.now() - start;
  return { samples, elapsedMs, cpuMs: cpuMs(process.cpuUsage(cpu)), perSecond: (total / elapsedMs) * 1000 };
};

// ------------------------------------------------------------------------------------ the server child

export interface ServerChild {
  /** The MQTT broker. */
  readonly url: string;
  /** The iot-jobs-data HTTP API (plain HTTP, SigV4 with `benchCredentials`). */
  readonly dataEndpoint: string;
  readonly stop: () => Promise<void>;
}

export const waitExit = (child: ChildProcess, timeoutMs: number): Promise<number | null> =>
  new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve(child.exitCode);
      return;
    }
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });

export const startServer = async (thingNames: readonly string[]): Promise<ServerChild> => {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'bench/server.ts'), ...thingNames], {
    cwd: root,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout });
  const [url, dataEndpoint] = await withTimeout(
    'bench/server.ts',
    20_000,
    new Promise<[string, string]>((resolve, reject) => {
      lines.on('line', (line) => {
        const match = /^READY (\S+) (\S+)$/.exec(line);
        if (match?.[1] !== undefined && match[2] !== undefined) resolve([match[1], match[2]]);
      });
      child.once('exit', (code) => {
        reject(new Error(`bench/server.ts exited (${code}) before it was ready`));
      });
    }),
  );
  return {
    url,
    dataEndpoint,
    stop: async () => {
      child.stdin.end();
      await waitExit(child, 5_000);
    },
  };
};

// ---------------------------------------------------------------------------------------- the clients

export interface BenchClient {
  readonly describe: Requester;
  readonly close: () => Promise<void>;
}

/** The floor: one mqtt.js client, TCP_NODELAY, subscribed once, `{clientToken}` out, correlated reply in. */
export const rawClient = async (url: string, thingName: string): Promise<BenchClient> => {
  const client: MqttClient = await mqtt.connectAsync(url, { clientId: `${thingName}-bench`, reconnectPeriod: 0 });
  (client.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
  const waiting = new Map<string, () => void>();
  client.on('message', (_topic, payload) => {
    const body = JSON.parse(payload.toString()) as { clientToken?: unknown };
    if (typeof body.clientToken !== 'string') return;
    const done = waiting.get(body.clientToken);
    waiting.delete(body.clientToken);
    done?.();
  });
  await client.subscribeAsync(`$aws/things/${thingName}/jobs/+/get/+`, { qos: 1 });
  const topic = `$aws/things/${thingName}/jobs/${benchJobId}/get`;
  let counter = 0;
  return {
    describe: () => {
      counter += 1;
      const clientToken = `raw-${counter}`;
      return withTimeout(
        'raw describe',
        requestTimeoutMs,
        new Promise<void>((resolve) => {
          waiting.set(clientToken, resolve);
          client.publish(topic, JSON.stringify({ clientToken }), { qos: 1 });
        }),
      );
    },
    close: async () => {
      await client.endAsync(true);
    },
  };
};

/**
 * Ours, from the built package (see `oursEntry`, or another CommonJS build `entry`): connectMqtt →
 * mqttTransport (default options) → createJobsClient (default options, unless `callerStacks` is given).
 */
export const oursClient = async (url: string, thingName: string, entry: string = oursEntry, callerStacks?: boolean): Promise<BenchClient> => {
  const library = createRequire(__filename)(entry) as typeof Library;
  const client = await library.connectMqtt({ url, clientId: `${thingName}-bench`, reconnectPeriodMs: 0 });
  const transport = library.mqttTransport(client);
  const jobs = library.createJobsClient({ thingName, transport, timeoutMs: requestTimeoutMs, ...(callerStacks === undefined ? {} : { callerStacks }) });
  return {
    describe: async () => {
      const reply = await firstValueFrom(jobs.describeJobExecution({ jobId: benchJobId }));
      if (reply.execution?.jobId !== benchJobId) throw new Error('ours: unexpected reply');
    },
    close: async () => {
      await client.endAsync(true);
    },
  };
};

/** aws-iot-device-sdk-v2 1.28 IotJobsClientv2 over an aws-crt MQTT 3.1.1 connection (dependencies.md §3). */
export const sdkClient = async (url: string, thingName: string): Promise<BenchClient> => {
  const { mqtt: crtMqtt, io, iotjobs } = await import('aws-iot-device-sdk-v2');
  const { hostname, port } = new URL(url);
  const connection = new crtMqtt.MqttClient().new_connection({
    client_id: `${thingName}-bench`,
    host_name: hostname,
    port: Number(port),
    clean_session: true,
    keep_alive: 30,
    socket_options: new io.SocketOptions(),
  });
  await withTimeout('aws-crt connect', 10_000, connection.connect());
  const jobs = iotjobs.IotJobsClientv2.newFromMqtt311(connection, {
    maxRequestResponseSubscriptions: 4,
    maxStreamingSubscriptions: 2,
    operationTimeoutInSeconds: requestTimeoutMs / 1000,
  });
  return {
    describe: async () => {
      const reply = await jobs.describeJobExecution({ thingName, jobId: benchJobId });
      if (reply.execution?.jobId !== benchJobId) throw new Error('sdk: unexpected reply');
    },
    close: async () => {
      jobs.close();
      await connection.disconnect();
    },
  };
};

