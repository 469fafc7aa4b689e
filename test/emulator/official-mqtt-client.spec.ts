import { mqtt_request_response as crtRequestResponse } from 'aws-crt';
import { io, iotjobs, mqtt, mqtt_request_response } from 'aws-iot-device-sdk-v2';
import { startEmulator, type Emulator } from '../../src/emulator';

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

/** Opens a stream and resolves once its subscription is established; collects what it receives. */
const openStream = async <T>(stream: mqtt_request_response.StreamingOperation<T>): Promise<{ received: T[]; next: () => Promise<T> }> => {
  const received: T[] = [];
  const waiting: ((event: T) => void)[] = [];
  stream.on('incomingPublish', ({ message }) => {
    const waiter = waiting.shift();
    if (waiter === undefined) received.push(message);
    else waiter(message);
  });
  await new Promise<void>((resolve, reject) => {
    stream.on('subscriptionStatus', (status) => {
      if (status.type === crtRequestResponse.SubscriptionStatusEventType.SubscriptionEstablished) resolve();
      else reject(new Error(`stream subscription failed: ${String(status.type)}`));
    });
    stream.open();
  });
  const next = (): Promise<T> => {
    const ready = received.shift();
    return ready === undefined ? new Promise<T>((resolve) => waiting.push(resolve)) : Promise.resolve(ready);
  };
  return { received, next };
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
    const changedStream = jobs.createJobExecutionsChangedStream({ thingName });
    const nextStream = jobs.createNextJobExecutionChangedStream({ thingName });
    const changed = await openStream(changedStream);
    const next = await openStream(nextStream);

    createJob('job-1', { op: 'install' });
    expect(await changed.next()).toMatchObject({ jobs: { QUEUED: [{ jobId: 'job-1', versionNumber: 1 }] }, timestamp: expect.any(Number) });
    expect(await next.next()).toMatchObject({ execution: { jobId: 'job-1', status: 'QUEUED', jobDocument: { op: 'install' } } });

    createJob('job-2');
    expect(await changed.next()).toMatchObject({ jobs: { QUEUED: [{ jobId: 'job-1' }, { jobId: 'job-2' }] } });

    // Device work over the SDK: the head finishes, job-2 becomes next.
    await jobs.updateJobExecution({ thingName, jobId: 'job-1', status: iotjobs.model.JobStatus.SUCCEEDED });
    expect(await changed.next()).toEqual({ jobs: { QUEUED: [expect.objectContaining({ jobId: 'job-2' })] }, timestamp: expect.any(Number) });
    expect(await next.next()).toMatchObject({ execution: { jobId: 'job-2', status: 'QUEUED' } });

    // Nothing pending: notify carries `jobs: {}`, notify-next no execution.
    emulator.engine.cancelJob('job-2', {});
    expect(await changed.next()).toEqual({ jobs: {}, timestamp: expect.any(Number) });
    const last = await next.next();
    expect(last.execution).toBeUndefined();
    expect(changed.received).toEqual([]);
    expect(next.received).toEqual([]);
    changedStream.close();
    nextStream.close();
  });
});
