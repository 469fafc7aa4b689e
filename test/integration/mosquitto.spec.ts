import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient, Packet } from 'mqtt';
import { firstValueFrom, take, toArray } from 'rxjs';
import { TransportError, connectMqtt, createJobsClient, mqttTransport, type JobsClient } from '../../src';
import { ensureServerTls, issueDeviceCertificate } from '../../src/emulator/tls';
import { inFlightAtDrop } from '../helpers/drop';
import { bridgeJobsService, mosquittoPath, startMosquitto, type BridgedService, type Mosquitto } from '../helpers/mosquitto';

/**
 * The client on mosquitto: MQTT 5, a broker that restarts (every session lost), and TLS from OpenSSL. The
 * emulator's Jobs service answers as one more client of the broker. .ci/run installs mosquitto and sets
 * IOT_JOBS_REQUIRE_MOSQUITTO=1, so that there a missing broker fails the run instead of skipping this file.
 */
const required = process.env.IOT_JOBS_REQUIRE_MOSQUITTO === '1';
const describeWithMosquitto = mosquittoPath !== undefined || required ? describe : describe.skip;

const arn = (thing: string): string => `arn:aws:iot:us-east-1:123456789012:thing/${thing}`;

describeWithMosquitto('on mosquitto', () => {
  const clients: MqttClient[] = [];

  const createJob = (jobId: string): void => {
    const created = running().bridge.service.engine.createJob({ jobId, targets: [arn('thing-A')], document: JSON.stringify({ operation: jobId }) });
    if (!created.ok) throw new Error(created.message);
  };

  const device = async (options: { readonly protocolVersion?: 4 | 5; readonly clean?: boolean; readonly sessionExpirySeconds?: number } = {}): Promise<JobsClient> => {
    const client = await connectMqtt({ url: running().broker.url, clientId: 'thing-A', reconnectPeriodMs: 50, ...options });
    clients.push(client);
    return createJobsClient({ thingName: 'thing-A', transport: mqttTransport(client), timeoutMs: 5000 });
  };

  let bridge: BridgedService | undefined;
  let broker: Mosquitto | undefined;

  beforeEach(async () => {
    broker = await startMosquitto();
    bridge = await bridgeJobsService(broker.url);
  });

  afterEach(async () => {
    // The broker goes whatever failed before: a mosquitto left running would keep jest from exiting.
    try {
      for (const client of clients.splice(0)) await client.endAsync(true);
      await bridge?.close();
    } finally {
      bridge = undefined;
      await broker?.stop();
      broker = undefined;
    }
  });

  const running = (): { broker: Mosquitto; bridge: BridgedService } => {
    if (broker === undefined || bridge === undefined) throw new Error('mosquitto is not running');
    return { broker, bridge };
  };

  it('mosquitto - MQTT 5: the four operations and notify-next', async () => {
    const jobs = await device({ protocolVersion: 5 });
    const next = firstValueFrom(jobs.nextJobExecutionChanged().pipe(take(1), toArray()));
    await firstValueFrom(jobs.getPendingJobExecutions()); // the event SUBACKs are in by now
    createJob('job-1');
    await expect(next).resolves.toMatchObject([{ execution: { jobId: 'job-1', status: 'QUEUED' } }]);
    await expect(firstValueFrom(jobs.getPendingJobExecutions())).resolves.toMatchObject({ queuedJobs: [{ jobId: 'job-1' }] });
    await expect(firstValueFrom(jobs.startNextPendingJobExecution())).resolves.toMatchObject({ execution: { jobId: 'job-1', status: 'IN_PROGRESS' } });
    const updated = firstValueFrom(jobs.updateJobExecution({ jobId: 'job-1', status: 'SUCCEEDED', expectedVersion: 2, includeJobExecutionState: true }));
    await expect(updated).resolves.toMatchObject({ executionState: { status: 'SUCCEEDED', versionNumber: 3 } });
    await expect(firstValueFrom(jobs.describeJobExecution({ jobId: 'job-1' }))).resolves.toMatchObject({ execution: { status: 'SUCCEEDED' } });
  });

  it('mosquitto - a broker restart loses every session; a read made while it is down is answered once the filter is back (3.1.1 and 5)', async () => {
    createJob('job-1');
    for (const protocolVersion of [4, 5] as const) {
      const jobs = await device({ protocolVersion });
      const client = clients[0];
      if (client === undefined) throw new Error('no client');
      await firstValueFrom(jobs.describeJobExecution({ jobId: 'job-1' }));
      const closed = new Promise<void>((resolve) => client.once('close', () => { resolve(); }));
      await running().broker.halt();
      await closed;
      const described = firstValueFrom(jobs.describeJobExecution({ jobId: 'job-1' }));
      await running().broker.resume();
      await expect(described).resolves.toMatchObject({ execution: { jobId: 'job-1' } });
      for (const ended of clients.splice(0)) await ended.endAsync(true);
    }
  });

  it('mosquitto - a StartNext in flight when the broker stops fails as indeterminate, never by timeout', async () => {
    createJob('job-1');
    const jobs = await device({ protocolVersion: 5 });
    const client = clients[0];
    if (client === undefined) throw new Error('no client');
    await firstValueFrom(jobs.startNextPendingJobExecution());
    // The service is slow to answer: the PUBLISH has gone out, and the broker stops before the reply.
    running().bridge.pause();
    const startNext = firstValueFrom(jobs.startNextPendingJobExecution());
    await new Promise<void>((resolve) => {
      const onPacket = (packet: Packet): void => {
        if (packet.cmd !== 'puback') return;
        client.removeListener('packetreceive', onPacket);
        resolve();
      };
      client.on('packetreceive', onPacket);
    });
    await running().broker.halt();
    await running().broker.resume();
    // A new session: the reply would come before the SUBACK only by luck, so the client says it cannot know.
    await expect(startNext).rejects.toBeInstanceOf(TransportError);
    running().bridge.resume();
  });

  it.each([4, 5] as const)('mosquitto - MQTT %s with clean: false resumes the session: an unversioned update in flight at a drop gets its reply', async (protocolVersion) => {
    createJob('job-1');
    const jobs = await device({ protocolVersion, clean: false });
    await firstValueFrom(jobs.startNextPendingJobExecution());
    const client = clients[0];
    if (client === undefined) throw new Error('no client');
    // MQTT 5 keeps a session only as long as the CONNECT asks: an hour unless told.
    expect(client.options.properties?.sessionExpiryInterval).toBe(protocolVersion === 5 ? 3600 : undefined);
    // Dropped at the PUBACK: the broker has the update, and the reply comes while the device is away.
    const { outcome, sessionPresent, pendingAtDrop } = inFlightAtDrop(client, jobs.updateJobExecution({ jobId: 'job-1', status: 'IN_PROGRESS', statusDetails: { step: '2' }, includeJobExecutionState: true }), 'acknowledged');
    expect(await pendingAtDrop).toBe(true);
    await expect(outcome).resolves.toMatchObject({ executionState: { statusDetails: { step: '2' }, versionNumber: 3 } });
    expect(await sessionPresent).toBe(true);
  });

  it('mosquitto - MQTT 5 with sessionExpirySeconds: 0 keeps no session: the read in flight at a drop is sent again and answered', async () => {
    createJob('job-1');
    const jobs = await device({ protocolVersion: 5, clean: false, sessionExpirySeconds: 0 });
    await firstValueFrom(jobs.describeJobExecution({ jobId: 'job-1' }));
    const client = clients[0];
    if (client === undefined) throw new Error('no client');
    // Dropped at the PUBACK: the reply is lost with the session, and the read is sent again.
    const { outcome, sessionPresent, pendingAtDrop } = inFlightAtDrop(client, jobs.describeJobExecution({ jobId: 'job-1' }), 'acknowledged');
    expect(await pendingAtDrop).toBe(true);
    await expect(outcome).resolves.toMatchObject({ execution: { jobId: 'job-1' } });
    expect(await sessionPresent).toBe(false);
  });
});

describeWithMosquitto('on mosquitto with mutual TLS', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mosquitto-tls-'));
  let broker: Mosquitto | undefined;
  let bridge: BridgedService | undefined;
  let url = '';

  beforeAll(async () => {
    const server = ensureServerTls(dir);
    const service = issueDeviceCertificate(dir, 'jobs-service');
    broker = await startMosquitto({ tls: { ca: join(dir, 'ca.crt'), cert: join(dir, 'server.crt'), key: join(dir, 'server.key') } });
    url = broker.url;
    bridge = await bridgeJobsService(url, { ca: server.ca, cert: service.cert, key: service.key });
    const created = bridge.service.engine.createJob({ jobId: 'job-1', targets: [arn('thing-A')], document: '{"operation":"x"}' });
    if (!created.ok) throw new Error(created.message);
  });

  afterAll(async () => {
    try {
      await bridge?.close();
    } finally {
      await broker?.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('mosquitto TLS - connectMqtt with the device certificate and the CA reaches the service', async () => {
    const { cert, key } = issueDeviceCertificate(dir, 'thing-A');
    const client = await connectMqtt({ url, clientId: 'thing-A', cert, key, ca: ensureServerTls(dir).ca, protocolVersion: 5 });
    try {
      const jobs = createJobsClient({ thingName: 'thing-A', transport: mqttTransport(client), timeoutMs: 5000 });
      await expect(firstValueFrom(jobs.describeJobExecution({ jobId: 'job-1' }))).resolves.toMatchObject({ execution: { jobId: 'job-1' } });
    } finally {
      await client.endAsync(true);
    }
  });

  it('mosquitto TLS - a broker certificate from another CA is refused: TLS is verified', async () => {
    const other = mkdtempSync(join(tmpdir(), 'other-ca-'));
    try {
      const { cert, key } = issueDeviceCertificate(dir, 'thing-A');
      const connecting = connectMqtt({ url, clientId: 'thing-A', cert, key, ca: ensureServerTls(other).ca, reconnectPeriodMs: 0, connectTimeoutMs: 3000 });
      await expect(connecting).rejects.toBeInstanceOf(TransportError);
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });
});
