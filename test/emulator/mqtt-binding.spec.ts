import { firstValueFrom, take, toArray } from 'rxjs';
import type { MqttClient } from 'mqtt';
import mqtt from 'mqtt';
import { connectMqtt, createJobsClient, mqttTransport, RejectedError, type JobsClient } from '../../src';
import { startJobsBroker, type JobsBroker } from '../../src/emulator/mqtt/broker';
import { createJobsService, type JobsService } from '../../src/emulator/service';

const arn = (thing: string) => `arn:aws:iot:us-east-1:123456789012:thing/${thing}`;

describe('emulator MQTT binding', () => {
  let service: JobsService;
  let broker: JobsBroker;
  let client: MqttClient;
  let jobs: JobsClient;

  const start = async (strict = false) => {
    service = createJobsService();
    broker = await startJobsBroker({ engine: service.engine, now: service.now, host: '127.0.0.1', port: 0, strict });
    service.notifications$.subscribe((n) => broker.publishNotification(n));
    client = await connectMqtt({ url: broker.url, clientId: 'thing-A' });
    jobs = createJobsClient({ thingName: 'thing-A', transport: mqttTransport(client, { lingerMs: 0 }), timeoutMs: 2000 });
  };

  afterEach(async () => {
    await client.endAsync(true);
    service.stop();
    await broker.close();
  });

  const createJob = (jobId: string, document: object = { op: jobId }) => {
    const result = service.engine.createJob({ jobId, targets: [arn('thing-A')], document: JSON.stringify(document) });
    if (!result.ok) throw new Error(result.message);
  };

  it('emulator mqtt - the four operations and both notifications, for our client', async () => {
    await start();
    const next = firstValueFrom(jobs.nextJobExecutionChanged().pipe(take(2), toArray()));
    const changed = firstValueFrom(jobs.jobExecutionsChanged().pipe(take(3), toArray()));
    await firstValueFrom(jobs.getPendingJobExecutions()); // a round trip: the event SUBACKs are in by now
    createJob('job-1', { op: 'install' });
    createJob('job-2');
    expect(await firstValueFrom(jobs.getPendingJobExecutions())).toMatchObject({ inProgressJobs: [], queuedJobs: [{ jobId: 'job-1' }, { jobId: 'job-2' }] });
    const { execution } = await firstValueFrom(jobs.startNextPendingJobExecution({ statusDetails: { step: 'download' }, stepTimeoutInMinutes: 5 }));
    expect(execution).toMatchObject({ jobId: 'job-1', status: 'IN_PROGRESS', versionNumber: 2, jobDocument: { op: 'install' }, approximateSecondsBeforeTimedOut: 300 });
    expect(execution?.startedAt).toBeInstanceOf(Date);
    await expect(firstValueFrom(jobs.describeJobExecution({ jobId: 'job-1', includeJobDocument: false }))).resolves.toMatchObject({
      execution: { jobId: 'job-1', statusDetails: { step: 'download' } },
    });
    const done = await firstValueFrom(jobs.updateJobExecution({ jobId: 'job-1', status: 'SUCCEEDED', expectedVersion: 2, includeJobExecutionState: true, includeJobDocument: true }));
    expect(done).toMatchObject({ executionState: { status: 'SUCCEEDED', versionNumber: 3 }, jobDocument: { op: 'install' } });
    expect((await next).map((e) => e.execution?.jobId)).toEqual(['job-1', 'job-2']);
    expect((await changed).map((e) => e.jobs.QUEUED?.map((j) => j.jobId).join(',') ?? '')).toEqual(['job-1', 'job-1,job-2', 'job-2']);
  });

  it('emulator mqtt - rejections: VersionMismatch with state, ResourceNotFound, InvalidRequest from the codecs', async () => {
    await start();
    createJob('job-1');
    const mismatch: unknown = await firstValueFrom(jobs.updateJobExecution({ jobId: 'job-1', status: 'IN_PROGRESS', expectedVersion: 9 })).catch((e: unknown) => e);
    expect(mismatch).toBeInstanceOf(RejectedError);
    expect(mismatch).toMatchObject({ code: 'VersionMismatch', executionState: { status: 'QUEUED', versionNumber: 1 } });
    await expect(firstValueFrom(jobs.describeJobExecution({ jobId: 'job-9' }))).rejects.toMatchObject({ code: 'ResourceNotFound' });
  });

  const raw = async (topic: string, payload: string | Buffer, replyFilter: string): Promise<unknown> => {
    const other = await mqtt.connectAsync(broker.url, { clientId: 'raw-thing-A' });
    try {
      await other.subscribeAsync(replyFilter);
      const reply = new Promise<unknown>((resolve) => other.once('message', (_t, p) => resolve(JSON.parse(p.toString()))));
      await other.publishAsync(topic, payload);
      return await reply;
    } finally {
      await other.endAsync(true);
    }
  };

  it('emulator mqtt - malformed JSON, wrong types, unknown topics and oversized payloads get the documented rejection', async () => {
    await start();
    createJob('job-1');
    const P = '$aws/things/thing-A/jobs';
    await expect(raw(`${P}/get`, '{not json', `${P}/get/rejected`)).resolves.toMatchObject({ code: 'InvalidJson' });
    // Found in review of stop 9: bytes that are not UTF-8 were read as U+FFFD and the request served (spec §2.5).
    const notUtf8 = Buffer.concat([Buffer.from('{"clientToken":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]);
    await expect(raw(`${P}/get`, notUtf8, `${P}/get/rejected`)).resolves.toMatchObject({ code: 'InvalidJson', message: expect.stringContaining('UTF-8') });
    await expect(raw(`${P}/job-1/update`, '{"status":"DONE","clientToken":"c1"}', `${P}/job-1/update/rejected`)).resolves.toMatchObject({
      code: 'InvalidRequest', clientToken: 'c1', message: expect.stringContaining('status'),
    });
    await expect(raw(`${P}/start-next`, '{"stepTimeoutInMinutes":0}', `${P}/start-next/rejected`)).resolves.toMatchObject({ code: 'InvalidRequest' });
    await expect(raw(`${P}/job-1/get`, `{"clientToken":"${'x'.repeat(65)}"}`, `${P}/job-1/get/rejected`)).resolves.toMatchObject({ code: 'InvalidRequest' });
    await expect(raw(`${P}/job-1/frobnicate`, '{"clientToken":"c2"}', `${P}/job-1/frobnicate/rejected`)).resolves.toMatchObject({ code: 'InvalidTopic', clientToken: 'c2' });
    await expect(raw(`${P}/get`, JSON.stringify({ pad: 'x'.repeat(130 * 1024) }), `${P}/get/rejected`)).resolves.toMatchObject({ code: 'InvalidRequest' });
    const longThing = 't'.repeat(129);
    await expect(raw(`$aws/things/${longThing}/jobs/get`, '{"clientToken":"c3"}', `$aws/things/${longThing}/jobs/get/rejected`)).resolves.toMatchObject({
      code: 'InvalidTopic', clientToken: 'c3',
    });
    const longJob = 'j'.repeat(65);
    await expect(raw(`${P}/${longJob}/get`, '{"clientToken":"c4"}', `${P}/${longJob}/get/rejected`)).resolves.toMatchObject({ code: 'InvalidTopic', clientToken: 'c4' });
    // the emulator still serves everyone else
    await expect(firstValueFrom(jobs.getPendingJobExecutions())).resolves.toMatchObject({ queuedJobs: [{ jobId: 'job-1' }] });
  });

  it('emulator mqtt - accepts the official v2 SDK payloads as they are (expectedVersion as a string too)', async () => {
    await start();
    createJob('job-1');
    const P = '$aws/things/thing-A/jobs';
    await expect(raw(`${P}/start-next`, '{"clientToken":"u1","stepTimeoutInMinutes":5,"statusDetails":{"step":"1"}}', `${P}/start-next/accepted`)).resolves.toMatchObject({
      clientToken: 'u1', execution: { jobId: 'job-1', status: 'IN_PROGRESS' },
    });
    await expect(raw(`${P}/job-1/update`, '{"status":"SUCCEEDED","clientToken":"u2","statusDetails":{"r":"ok"},"expectedVersion":"2","thingName":"thing-A","jobId":"job-1"}', `${P}/job-1/update/accepted`)).resolves.toEqual({
      clientToken: 'u2', timestamp: expect.any(Number),
    });
  });

  // Found in review of stop 9: QoS 2 was granted and served; AWS IoT supports QoS 0 and 1 only (spec §2.1).
  it('emulator mqtt - QoS 2: a subscription is refused (SUBACK 128), a request is not served', async () => {
    await start();
    const P = '$aws/things/thing-A/jobs';
    const device = await mqtt.connectAsync(broker.url, { clientId: 'qos2-thing-A', reconnectPeriod: 0 });
    try {
      await expect(device.subscribeAsync(`${P}/notify`, { qos: 2 })).rejects.toThrow('Subscribe error');
      await device.subscribeAsync(`${P}/get/+`, { qos: 1 });
      const replies: string[] = [];
      device.on('message', (topic) => replies.push(topic));
      await device.publishAsync(`${P}/get`, '{"clientToken":"q2"}', { qos: 2 });
      await device.publishAsync(`${P}/get`, '{"clientToken":"q1"}', { qos: 1 });
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(replies).toEqual([`${P}/get/accepted`]); // the QoS 1 request only
    } finally {
      await device.endAsync(true);
    }
  });

  it('emulator mqtt - strict mode: a device may not publish or subscribe another thing\'s topics', async () => {
    await start(true);
    const intruder = await mqtt.connectAsync(broker.url, { clientId: 'thing-B', reconnectPeriod: 0 });
    // SUBACK 128: refused, the connection stays up
    await expect(intruder.subscribeAsync('$aws/things/thing-A/jobs/notify')).rejects.toThrow('Subscribe error');
    const closed = new Promise<void>((resolve) => intruder.once('close', () => resolve()));
    intruder.publish('$aws/things/thing-A/jobs/get', '{}', { qos: 1 });
    await closed;
    await intruder.endAsync(true);
    await expect(firstValueFrom(jobs.getPendingJobExecutions())).resolves.toMatchObject({ queuedJobs: [] });
  });
});
