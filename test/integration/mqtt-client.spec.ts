import { firstValueFrom, take, toArray } from 'rxjs';
import * as t from 'io-ts';
import type { MqttClient } from 'mqtt';
import {
  DecodeError,
  InvalidRequestError,
  RejectedError,
  RequestTimeoutError,
  connectMqtt,
  createJobsClient,
  mqttTransport,
} from '../../src';
import { startEmulator, type Emulator } from '../../src/emulator';
import { startBroker } from '../helpers/broker';

describe('JobsClient over MQTT on the emulator', () => {
  let emulator: Emulator;
  let client: MqttClient;

  const addJob = (thingName: string, jobId: string, document: unknown): void => {
    const result = emulator.engine.createJob({ jobId, targets: [`arn:aws:iot:us-east-1:123456789012:thing/${thingName}`], document: JSON.stringify(document) });
    if (!result.ok) throw new Error(result.message);
  };

  beforeEach(async () => {
    emulator = await startEmulator();
    client = await connectMqtt({ url: emulator.mqttUrl, clientId: 'thing-A' });
  });

  afterEach(async () => {
    await client.endAsync(true);
    await emulator.close();
  });

  it('mqtt client - runs the four operations end to end', async () => {
    const jobs = createJobsClient({ thingName: 'thing-A', transport: mqttTransport(client, { lingerMs: 0 }) });
    addJob('thing-A', 'job-1', { operation: 'reboot' });
    const pending = await firstValueFrom(jobs.getPendingJobExecutions());
    expect(pending.queuedJobs.map((j) => j.jobId)).toEqual(['job-1']);
    expect(pending.queuedJobs[0]?.queuedAt).toBeInstanceOf(Date);

    const started = await firstValueFrom(jobs.startNextPendingJobExecution({ statusDetails: { step: 'download' } }));
    expect(started.execution).toMatchObject({ jobId: 'job-1', status: 'IN_PROGRESS', versionNumber: 2, jobDocument: { operation: 'reboot' } });

    const described = await firstValueFrom(jobs.describeJobExecution({ jobId: '$next' }));
    expect(described.execution?.statusDetails).toEqual({ step: 'download' });

    const updated = await firstValueFrom(
      jobs.updateJobExecution({ jobId: 'job-1', status: 'SUCCEEDED', expectedVersion: 2, includeJobExecutionState: true }),
    );
    expect(updated.executionState).toEqual({ status: 'SUCCEEDED', versionNumber: 3, statusDetails: { step: 'download' } });
  });

  it('mqtt client - rejections carry code and executionState', async () => {
    const jobs = createJobsClient({ thingName: 'thing-A', transport: mqttTransport(client) });
    addJob('thing-A', 'job-1', {});
    const error: unknown = await firstValueFrom(jobs.updateJobExecution({ jobId: 'job-1', status: 'IN_PROGRESS', expectedVersion: 7 })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RejectedError);
    expect(error).toMatchObject({ code: 'VersionMismatch', executionState: { status: 'QUEUED', versionNumber: 1 } });
    await expect(firstValueFrom(jobs.describeJobExecution({ jobId: 'nope' }))).rejects.toMatchObject({ name: 'RejectedError', code: 'ResourceNotFound' });
  });

  it('mqtt client - refuses invalid names before any I/O', async () => {
    const published: string[] = [];
    client.on('packetsend', (packet: { cmd: string }) => published.push(packet.cmd));
    const jobs = createJobsClient({ thingName: 'thing-A', transport: mqttTransport(client) });
    await expect(firstValueFrom(jobs.describeJobExecution({ jobId: 'a/#' }))).rejects.toBeInstanceOf(InvalidRequestError);
    expect(published).toEqual([]);
    expect(() => createJobsClient({ thingName: 'thing/+', transport: mqttTransport(client) })).toThrow(InvalidRequestError);
  });

  it('mqtt client - a request with no reply ends with RequestTimeoutError', async () => {
    const silent = await startBroker(); // a broker with no Jobs service behind it
    const lonely = await connectMqtt({ url: silent.url, clientId: 'thing-A' });
    try {
      const jobs = createJobsClient({ thingName: 'thing-A', transport: mqttTransport(lonely), timeoutMs: 200 });
      await expect(firstValueFrom(jobs.getPendingJobExecutions())).rejects.toBeInstanceOf(RequestTimeoutError);
    } finally {
      await lonely.endAsync(true);
      await silent.close();
    }
  });

  it('mqtt client - streams notify and notify-next with typed documents', async () => {
    const Doc = t.type({ operation: t.string });
    const jobs = createJobsClient({ thingName: 'thing-A', transport: mqttTransport(client), jobDocument: Doc });
    const next = firstValueFrom(jobs.nextJobExecutionChanged().pipe(take(2), toArray()));
    const changed = firstValueFrom(jobs.jobExecutionsChanged().pipe(take(2), toArray()));
    await new Promise((resolve) => setTimeout(resolve, 100)); // subscriptions granted
    addJob('thing-A', 'job-1', { operation: 'install' });
    addJob('thing-A', 'job-2', { operation: 'reboot' }); // not the head: notify only
    await firstValueFrom(jobs.updateJobExecution({ jobId: 'job-1', status: 'SUCCEEDED' })); // new head: job-2
    const [first, second] = await next;
    expect(first?.execution?.jobDocument?.operation).toBe('install');
    expect(second?.execution?.jobDocument?.operation).toBe('reboot');
    expect((await changed).map((e) => e.jobs.QUEUED?.map((j) => j.jobId))).toEqual([['job-1'], ['job-1', 'job-2']]);
  });

  it('mqtt client - a malformed event is reported as a DecodeError and the stream goes on', async () => {
    const jobs = createJobsClient({ thingName: 'thing-A', transport: mqttTransport(client) });
    const reported = firstValueFrom(jobs.eventDecodeErrors());
    const next = firstValueFrom(jobs.nextJobExecutionChanged());
    await new Promise((resolve) => setTimeout(resolve, 100));
    await client.publishAsync('$aws/things/thing-A/jobs/notify-next', '{"timestamp":"yesterday"}', { qos: 1 });
    const error: unknown = await reported;
    expect(error).toBeInstanceOf(DecodeError);
    expect(error).toMatchObject({ topic: '$aws/things/thing-A/jobs/notify-next', issues: ['timestamp: expected EpochSeconds, got "yesterday"'] });
    await client.publishAsync('$aws/things/thing-A/jobs/notify-next', JSON.stringify({ timestamp: 2 }), { qos: 1 });
    expect((await next).timestamp).toEqual(new Date(2000));
  });
});
