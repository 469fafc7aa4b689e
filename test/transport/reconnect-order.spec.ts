import { firstValueFrom } from 'rxjs';
import type { MqttClient } from 'mqtt';
import { TransportError, connectMqtt, createJobsClient, mqttTransport, type JobsClient } from '../../src';
import { startEmulator, type Emulator } from '../../src/emulator';
import { inFlightAtDrop } from '../helpers/drop';

/**
 * After a reconnect on a clean session, mqtt.js sends the QoS 1 PUBLISHes it kept (and those made while
 * offline) before it subscribes again. A reply to such a request reaches the broker before the new
 * session's SUBSCRIBE and is lost. The transport must not count on that PUBLISH: it sends its request again
 * once the broker has granted the reply filter on the new session.
 */
/** An emulator with job-1 queued for thing-A, and thing-A's client on it. */
const start = async (options: { readonly clean: boolean }): Promise<{ emu: Emulator; client: MqttClient; jobs: JobsClient }> => {
  const emu = await startEmulator({ host: '127.0.0.1', mqttPort: 0, dataPort: 0, controlPort: 0 });
  const created = emu.engine.createJob({ jobId: 'job-1', targets: ['arn:aws:iot:us-east-1:123456789012:thing/thing-A'], document: '{"op":"x"}' });
  if (!created.ok) throw new Error(created.message);
  const client = await connectMqtt({ url: emu.mqttUrl, clientId: 'thing-A', reconnectPeriodMs: 50, clean: options.clean });
  return { emu, client, jobs: createJobsClient({ thingName: 'thing-A', transport: mqttTransport(client), timeoutMs: 3000 }) };
};

describe('mqtt transport on the emulator - requests across a reconnect', () => {
  let emu: Emulator;
  let client: MqttClient;
  let jobs: JobsClient;

  beforeEach(async () => {
    ({ emu, client, jobs } = await start({ clean: true }));
    // The describe filter is granted before the connection drops.
    await firstValueFrom(jobs.describeJobExecution({ jobId: 'job-1' }));
  });

  afterEach(async () => {
    await client.endAsync(true);
    await emu.close();
  });

  const dropConnection = async (): Promise<void> => {
    const closed = new Promise<void>((resolve) => client.once('close', () => { resolve(); }));
    client.stream.destroy();
    await closed;
  };

  it('mqtt transport - a read made while the connection is down is answered after the reconnect', async () => {
    await dropConnection();
    const described = firstValueFrom(jobs.describeJobExecution({ jobId: 'job-1' }));
    await expect(described).resolves.toMatchObject({ execution: { jobId: 'job-1', status: 'QUEUED' } });
  });

  it('mqtt transport - reads in flight when the connection drops are answered after the reconnect', async () => {
    const described = firstValueFrom(jobs.describeJobExecution({ jobId: 'job-1' }));
    const pending = firstValueFrom(jobs.getPendingJobExecutions());
    client.stream.destroy();
    await expect(described).resolves.toMatchObject({ execution: { jobId: 'job-1' } });
    await expect(pending).resolves.toMatchObject({ queuedJobs: [{ jobId: 'job-1' }] });
  });

  it('mqtt transport - a StartNext in flight when the broker drops the connection fails as indeterminate; a read made after it is answered', async () => {
    await firstValueFrom(jobs.startNextPendingJobExecution()); // its filter is granted: the next one goes out at once
    const startNext = firstValueFrom(jobs.startNextPendingJobExecution());
    // Dropped before the broker has read the PUBLISH; whether a copy is applied later is unknown to the client.
    expect(emu.faults.disconnect('thing-A')).toBe(1);
    await expect(startNext).rejects.toBeInstanceOf(TransportError);
    await expect(firstValueFrom(jobs.describeJobExecution({ jobId: 'job-1' }))).resolves.toMatchObject({ execution: { jobId: 'job-1', status: 'IN_PROGRESS' } });
  });

  it('mqtt transport - an update with expectedVersion made while the connection is down ends with its reply', async () => {
    await dropConnection();
    const updated = firstValueFrom(jobs.updateJobExecution({ jobId: 'job-1', status: 'IN_PROGRESS', expectedVersion: 1, includeJobExecutionState: true }));
    await expect(updated).resolves.toMatchObject({ executionState: { status: 'IN_PROGRESS' } });
  });
});

describe('mqtt transport on the emulator - a resumed session (clean: false)', () => {
  let emu: Emulator;
  let client: MqttClient;
  let jobs: JobsClient;

  beforeEach(async () => {
    ({ emu, client, jobs } = await start({ clean: false }));
    await firstValueFrom(jobs.updateJobExecution({ jobId: 'job-1', status: 'IN_PROGRESS' }));
  });

  afterEach(async () => {
    await client.endAsync(true);
    await emu.close();
  });

  it('mqtt transport - an unversioned update in flight when the connection drops gets its reply: the session kept the subscription', async () => {
    const { outcome, sessionPresent, pendingAtDrop } = inFlightAtDrop(client, jobs.updateJobExecution({ jobId: 'job-1', status: 'IN_PROGRESS', statusDetails: { step: '2' }, includeJobExecutionState: true }), 'sent');
    expect(await pendingAtDrop).toBe(true);
    await expect(outcome).resolves.toMatchObject({ executionState: { statusDetails: { step: '2' } } });
    expect(await sessionPresent).toBe(true);
  });
});
