import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { io, iotjobs, mqtt, mqtt_request_response } from 'aws-iot-device-sdk-v2';
import { startEmulator, type Emulator } from '../../src/emulator';
import { job } from '../helpers/names';

/**
 * Conformance: the official aws-iot-device-sdk-v2 `IotJobsClientv2` (aws-crt, MQTT 3.1.1) against the emulator
 * (../shared/spec/dependencies.md §3). aws-crt pays ~44 ms of Nagle per request, so requests are few.
 */

const thingName = 'thing-A';
const arn = (thing: string) => `arn:aws:iot:us-east-1:123456789012:thing/${thing}`;

let emulator: Emulator;
let conn: mqtt.MqttClientConnection;
let jobs: iotjobs.IotJobsClientv2;

beforeEach(async () => {
  emulator = await startEmulator();
  const url = new URL(emulator.mqttUrl);
  conn = new mqtt.MqttClient().new_connection({
    client_id: thingName,
    host_name: url.hostname,
    port: Number(url.port),
    clean_session: true,
    keep_alive: 30,
    socket_options: new io.SocketOptions(),
  });
  await conn.connect();
  jobs = iotjobs.IotJobsClientv2.newFromMqtt311(conn, { maxRequestResponseSubscriptions: 4, maxStreamingSubscriptions: 2, operationTimeoutInSeconds: 5 });
});

afterEach(async () => {
  jobs.close();
  await conn.disconnect();
  await emulator.close();
});

const createJob = (jobId: string, document: object = { op: jobId }): void => {
  const result = emulator.engine.createJob({ jobId, targets: [arn(thingName)], document: JSON.stringify(document) });
  if (!result.ok) throw new Error(result.message);
};

/** The error a promise rejects with (fails the test if it resolves). */
const failure = (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    () => {
      throw new Error('expected the request to be rejected');
    },
    (error: unknown) => error,
  );

/**
 * The streams run in a child process: with aws-crt 1.33.1 on Node 20, a process in which a streaming operation
 * has received a message aborts (SIGABRT in napi_release_threadsafe_function) while Node frees its environment at
 * a natural exit, and one whose streaming operation never received anything does not exit at all. Only
 * process.exit() avoids both, which Jest must not do. The emulator under test stays in this process.
 */
const streamsChild = `
const { io, iotjobs, mqtt } = require('aws-iot-device-sdk-v2');
const { mqtt_request_response: rr } = require('aws-crt');
const readline = require('node:readline');
const out = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
(async () => {
  const url = new URL(process.env.EMULATOR_MQTT_URL);
  const thingName = process.env.THING_NAME;
  const conn = new mqtt.MqttClient().new_connection({ client_id: thingName, host_name: url.hostname, port: Number(url.port),
    clean_session: true, keep_alive: 30, socket_options: new io.SocketOptions() });
  await conn.connect();
  const jobs = iotjobs.IotJobsClientv2.newFromMqtt311(conn, { maxRequestResponseSubscriptions: 4, maxStreamingSubscriptions: 2, operationTimeoutInSeconds: 5 });
  const open = (name, stream) => new Promise((resolve, reject) => {
    stream.on('incomingPublish', ({ message }) => out({ stream: name, message }));
    stream.on('incomingPublishError', ({ error }) => out({ stream: name, error: String(error) }));
    stream.on('subscriptionStatus', (s) => s.type === rr.SubscriptionStatusEventType.SubscriptionEstablished ? resolve() : reject(new Error('subscription status ' + s.type)));
    stream.open();
  });
  const streams = { changed: jobs.createJobExecutionsChangedStream({ thingName }), next: jobs.createNextJobExecutionChangedStream({ thingName }) };
  await Promise.all(Object.entries(streams).map(([name, stream]) => open(name, stream)));
  out({ ready: true });
  for await (const line of readline.createInterface({ input: process.stdin })) if (line === 'close') break;
  for (const stream of Object.values(streams)) stream.close();
  jobs.close();
  await conn.disconnect();
  out({ closed: true });
  process.exit(0);
})().catch((error) => { out({ error: String(error) }); process.exit(1); });
`;

interface ChildLine {
  readonly stream?: string;
  readonly message?: unknown;
  readonly error?: string;
  readonly ready?: boolean;
  readonly closed?: boolean;
}

const isChildLine = (value: unknown): value is ChildLine => typeof value === 'object' && value !== null;

let child: ChildProcessWithoutNullStreams | undefined;

afterEach(async () => {
  const proc = child;
  child = undefined;
  if (proc === undefined || proc.exitCode !== null || proc.signalCode !== null) return;
  const gone = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  proc.kill('SIGKILL');
  await gone;
});

/** Starts the SDK streams in a child process; `next(kind)` resolves with the next line of that kind. */
const startSdkStreams = (mqttUrl: string) => {
  const proc = spawn(process.execPath, ['-e', streamsChild], { env: { ...process.env, EMULATOR_MQTT_URL: mqttUrl, THING_NAME: thingName } });
  child = proc;
  const lines: ChildLine[] = [];
  const waiting: (() => void)[] = [];
  let stderr = '';
  proc.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  createInterface({ input: proc.stdout }).on('line', (line) => {
    const parsed: unknown = JSON.parse(line);
    if (isChildLine(parsed)) lines.push(parsed);
    waiting.splice(0).forEach((wake) => wake());
  });
  const next = async (kind: string, timeoutMs = 5000): Promise<ChildLine> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = lines.findIndex((l) => l.error !== undefined || l.stream === kind || (kind === 'ready' && l.ready === true) || (kind === 'closed' && l.closed === true));
      const found = index === -1 ? undefined : lines.splice(index, 1)[0];
      if (found?.error !== undefined) throw new Error(`SDK child failed: ${found.error}`);
      if (found !== undefined) return found;
      if (Date.now() > deadline) throw new Error(`no ${kind} line from the SDK child within ${timeoutMs} ms; stderr: ${stderr}`);
      await new Promise<void>((resolve) => {
        waiting.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  };
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const close = async (): Promise<number | null> => {
    proc.stdin.end('close\n');
    await next('closed');
    return exited;
  };
  return { next, close, pending: () => lines.filter((l) => l.stream !== undefined) };
};

describe('emulator with the official aws-iot-device-sdk-v2 IotJobsClientv2 (MQTT 3.1.1)', () => {
  it('official SDK v2 - getPending, startNext with statusDetails and a step timer, describe incl. $next, update with expectedVersion', async () => {
    createJob('job-1', { op: 'install' });
    createJob('job-2', { op: 'reboot' });

    const pending = await jobs.getPendingJobExecutions({ thingName });
    expect(pending).toMatchObject({ inProgressJobs: [], queuedJobs: [{ jobId: 'job-1', executionNumber: 1, versionNumber: 1 }, { jobId: 'job-2' }] });
    expect(pending.clientToken).toEqual(expect.any(String));

    const started = await jobs.startNextPendingJobExecution({ thingName, statusDetails: { step: 'download' }, stepTimeoutInMinutes: 5 });
    expect(started.execution).toMatchObject({
      jobId: 'job-1',
      status: 'IN_PROGRESS',
      versionNumber: 2,
      executionNumber: 1,
      statusDetails: { step: 'download' },
      jobDocument: { op: 'install' },
    });
    // The SDK passes timestamps through as the epoch seconds on the wire.
    expect(started.execution?.startedAt).toEqual(expect.any(Number));

    const head = await jobs.describeJobExecution({ thingName, jobId: '$next', includeJobDocument: true });
    expect(head.execution).toMatchObject({ jobId: 'job-1', status: 'IN_PROGRESS', versionNumber: 2, jobDocument: { op: 'install' } });

    const updated = await jobs.updateJobExecution({ thingName, jobId: 'job-1', status: iotjobs.model.JobStatus.SUCCEEDED, statusDetails: { r: 'ok' }, expectedVersion: 2 });
    expect(updated).toMatchObject({ clientToken: expect.any(String), timestamp: expect.any(Number) });

    // The SDK drops `includeJobDocument: false` from the payload, so the service default (true) applies.
    const done = await jobs.describeJobExecution({ thingName, jobId: 'job-1' });
    expect(done.execution).toMatchObject({ jobId: 'job-1', status: 'SUCCEEDED', versionNumber: 3, statusDetails: { r: 'ok' }, jobDocument: { op: 'install' } });
  });

  it('official SDK v2 - rejections arrive as ServiceError with modeledError.code (VersionMismatch, ResourceNotFound)', async () => {
    createJob('job-1');
    const mismatch = await failure(jobs.updateJobExecution({ thingName, jobId: 'job-1', status: iotjobs.model.JobStatus.IN_PROGRESS, expectedVersion: 9 }));
    expect(mismatch).toBeInstanceOf(mqtt_request_response.ServiceError);
    expect(mismatch).toMatchObject({
      modeledError: { code: 'VersionMismatch', clientToken: expect.any(String), executionState: { status: 'QUEUED', versionNumber: 1 } },
    });
    const missing = await failure(jobs.describeJobExecution({ thingName, jobId: 'job-9' }));
    expect(missing).toBeInstanceOf(mqtt_request_response.ServiceError);
    expect(missing).toMatchObject({ modeledError: { code: 'ResourceNotFound', message: expect.any(String) } });
  });

  it('official SDK v2 - createJobExecutionsChangedStream and createNextJobExecutionChangedStream see jobs come and go', async () => {
    const sdk = startSdkStreams(emulator.mqttUrl);
    await sdk.next('ready');

    createJob('job-1', { op: 'install' });
    expect((await sdk.next('changed')).message).toMatchObject({ jobs: { QUEUED: [{ jobId: 'job-1', versionNumber: 1 }] }, timestamp: expect.any(Number) });
    expect((await sdk.next('next')).message).toMatchObject({ execution: { jobId: 'job-1', status: 'QUEUED', jobDocument: { op: 'install' } } });

    createJob('job-2');
    expect((await sdk.next('changed')).message).toMatchObject({ jobs: { QUEUED: [{ jobId: 'job-1' }, { jobId: 'job-2' }] } });

    // Device work (here on the engine): the head finishes, job-2 becomes next.
    expect(emulator.engine.updateJobExecution(thingName, { jobId: job('job-1'), status: 'SUCCEEDED' })).toMatchObject({ ok: true });
    expect((await sdk.next('changed')).message).toEqual({ jobs: { QUEUED: [expect.objectContaining({ jobId: 'job-2' })] }, timestamp: expect.any(Number) });
    expect((await sdk.next('next')).message).toMatchObject({ execution: { jobId: 'job-2', status: 'QUEUED' } });

    // Nothing pending: notify carries `jobs: {}`, notify-next no execution.
    emulator.engine.cancelJob('job-2', {});
    expect((await sdk.next('changed')).message).toEqual({ jobs: {}, timestamp: expect.any(Number) });
    expect((await sdk.next('next')).message).toEqual({ timestamp: expect.any(Number) });

    expect(await sdk.close()).toBe(0);
    expect(sdk.pending()).toEqual([]);
  });
});
