import type { MqttClient } from 'mqtt';
import { firstValueFrom, take } from 'rxjs';
import {
  RejectedError,
  RequestTimeoutError,
  TransportError,
  connectMqtt,
  createJobsClient,
  httpsTransport,
  mqttTransport,
  type JobsClient,
} from '../../src';
import { startEmulator, type Emulator } from '../../src/emulator';
import { createFaultInjector, type DeviceRequest } from '../../src/emulator/faults';
import { job } from '../helpers/names';
import { pendingOutcome } from '../helpers/outcome';

/** `emu.faults`: injected throttles (not applied) and lost replies (applied), over MQTT and HTTP. */

const arn = (thing: string) => `arn:aws:iot:us-east-1:123456789012:thing/${thing}`;

let emulator: Emulator;
let client: MqttClient;

beforeEach(async () => {
  emulator = await startEmulator();
  client = await connectMqtt({ url: emulator.mqttUrl, clientId: 'tester' });
  for (const thing of ['thing-A', 'thing-B']) {
    const created = emulator.engine.createJob({ jobId: `job-${thing}`, targets: [arn(thing)], document: '{"op":"x"}' });
    if (!created.ok) throw new Error(created.message);
  }
});

afterEach(async () => {
  await client.endAsync(true);
  await emulator.close();
});

const overMqtt = (thingName = 'thing-A', timeoutMs = 5000): JobsClient =>
  createJobsClient({ thingName, transport: mqttTransport(client, { lingerMs: 0 }), timeoutMs });

const overHttp = (thingName = 'thing-A'): JobsClient =>
  createJobsClient({ thingName, transport: httpsTransport({ endpoint: emulator.dataEndpoint, region: 'us-east-1', credentials: emulator.credentials }), timeoutMs: 5000 });

const outcome = pendingOutcome;

const statusOf = (thing = 'thing-A'): string => {
  const found = emulator.engine.describeExecution(`job-${thing}`, thing);
  return found.ok ? `${found.value.status} v${found.value.versionNumber}` : found.exception;
};

describe('emulator faults', () => {
  it('faults - throttleNext: matching requests are refused RequestThrottled and not applied; others pass', async () => {
    emulator.faults.throttleNext(1, { operation: 'startNextPendingJobExecution' });
    const jobs = overMqtt();
    expect(await outcome(jobs)).toBe('ok'); // another operation: the rule is not spent
    const error: unknown = await firstValueFrom(jobs.startNextPendingJobExecution({})).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RejectedError);
    expect(error).toMatchObject({ code: 'RequestThrottled', clientToken: expect.any(String) });
    expect(statusOf()).toBe('QUEUED v1');
    await expect(firstValueFrom(jobs.startNextPendingJobExecution({}))).resolves.toMatchObject({ execution: { status: 'IN_PROGRESS' } });
    expect(statusOf()).toBe('IN_PROGRESS v2');
  });

  it('faults - throttleNext: a count spans both transports; HTTP gets 429', async () => {
    emulator.faults.throttleNext(2);
    expect(await outcome(overHttp())).toBe('RequestThrottled 429');
    const update: unknown = await firstValueFrom(overMqtt().updateJobExecution({ jobId: job('job-thing-A'), status: 'IN_PROGRESS' })).catch((e: unknown) => e);
    expect(update).toMatchObject({ name: 'RejectedError', code: 'RequestThrottled' });
    expect(statusOf()).toBe('QUEUED v1');
    expect(await outcome(overHttp())).toBe('ok');
    expect(await outcome(overMqtt())).toBe('ok');
  });

  it('faults - a thingName filter: only that thing\'s requests are refused', async () => {
    emulator.faults.throttleNext(1, { thingName: 'thing-B' });
    expect(await outcome(overMqtt('thing-A'))).toBe('ok');
    expect(await outcome(overHttp('thing-A'))).toBe('ok');
    expect(await outcome(overHttp('thing-B'))).toBe('RequestThrottled 429');
    expect(await outcome(overMqtt('thing-B'))).toBe('ok');
  });

  it('faults - dropRepliesNext over MQTT: the update is applied, the client times out; the next one is answered', async () => {
    emulator.faults.dropRepliesNext(1, { operation: 'updateJobExecution' });
    const jobs = overMqtt();
    const events = firstValueFrom(jobs.jobExecutionsChanged().pipe(take(1)));
    await firstValueFrom(jobs.startNextPendingJobExecution({}));
    const error: unknown = await firstValueFrom(overMqtt('thing-A', 500).updateJobExecution({ jobId: job('job-thing-A'), status: 'SUCCEEDED' })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RequestTimeoutError);
    // The write happened: a follow-up describe sees it, and its notification still went out.
    await expect(firstValueFrom(overMqtt().describeJobExecution({ jobId: job('job-thing-A') }))).resolves.toMatchObject({
      execution: { status: 'SUCCEEDED', versionNumber: 3 },
    });
    expect((await events).jobs).toEqual({});
    await expect(firstValueFrom(jobs.updateJobExecution({ jobId: job('job-thing-A'), status: 'FAILED' }))).rejects.toMatchObject({
      name: 'RejectedError',
      code: 'InvalidStateTransition',
    });
  });

  it('faults - dropRepliesNext over HTTP: the update is applied, the connection is reset', async () => {
    emulator.faults.dropRepliesNext(1, { thingName: 'thing-A' });
    const jobs = overHttp();
    const error: unknown = await firstValueFrom(jobs.startNextPendingJobExecution({})).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransportError);
    expect(statusOf()).toBe('IN_PROGRESS v2');
    await expect(firstValueFrom(jobs.describeJobExecution({ jobId: job('job-thing-A') }))).resolves.toMatchObject({
      execution: { status: 'IN_PROGRESS', versionNumber: 2 },
    });
  });

  it('faults - when both match, the throttle wins and the lost-reply rule waits for the next request', async () => {
    emulator.faults.dropRepliesNext(1);
    emulator.faults.throttleNext(1);
    const jobs = overMqtt();
    await expect(firstValueFrom(jobs.startNextPendingJobExecution({}))).rejects.toMatchObject({ code: 'RequestThrottled' });
    expect(statusOf()).toBe('QUEUED v1');
    await expect(firstValueFrom(overMqtt('thing-A', 500).startNextPendingJobExecution({}))).rejects.toBeInstanceOf(RequestTimeoutError);
    expect(statusOf()).toBe('IN_PROGRESS v2');
    expect(await outcome(jobs)).toBe('ok');
  });

  it('faults - clear() forgets the rules not yet used up', async () => {
    emulator.faults.throttleNext(5);
    emulator.faults.dropRepliesNext(5);
    expect(await outcome(overMqtt())).toBe('RequestThrottled');
    emulator.faults.clear();
    expect([await outcome(overMqtt()), await outcome(overHttp())]).toEqual(['ok', 'ok']);
  });

  it('faults - disconnect drops the connections of one thing\'s devices; they reconnect and are served again', async () => {
    const other = await connectMqtt({ url: emulator.mqttUrl, clientId: 'thing-B', reconnectPeriodMs: 50 });
    const device = await connectMqtt({ url: emulator.mqttUrl, clientId: 'thing-A', reconnectPeriodMs: 50 });
    try {
      const jobs = createJobsClient({ thingName: 'thing-A', transport: mqttTransport(device), timeoutMs: 5000 });
      expect(await outcome(jobs)).toBe('ok');
      const closed = new Promise<void>((resolve) => device.once('close', () => { resolve(); }));
      let otherClosed = false;
      other.once('close', () => { otherClosed = true; });
      expect(emulator.faults.disconnect('thing-A')).toBe(1);
      await closed;
      // Made while the device is offline: answered once it is back.
      expect(await outcome(jobs)).toBe('ok');
      expect(otherClosed).toBe(false);
      expect(emulator.faults.disconnect('no-such-thing')).toBe(0);
    } finally {
      await device.endAsync(true);
      await other.endAsync(true);
    }
  });

  it('faults - a count must be a whole number ≥ 0; 0 injects nothing', async () => {
    for (const count of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => emulator.faults.throttleNext(count)).toThrow(RangeError);
      expect(() => emulator.faults.dropRepliesNext(count)).toThrow(RangeError);
    }
    emulator.faults.throttleNext(0);
    expect(await outcome(overMqtt())).toBe('ok');
  });
});

describe('createFaultInjector', () => {
  it('fault injector - rules are used up in order, each by the requests it matches', () => {
    const { faults, take: spend } = createFaultInjector();
    faults.throttleNext(1, { operation: 'describeJobExecution' });
    faults.throttleNext(2);
    const describe: DeviceRequest = { operation: 'describeJobExecution', thingName: 't' };
    const pending: DeviceRequest = { operation: 'getPendingJobExecutions', thingName: 't' };
    expect(spend('drop', describe)).toBe(false);
    expect(spend('throttle', pending)).toBe(true); // second rule: 1 left
    expect(spend('throttle', describe)).toBe(true); // first rule, now spent
    expect(spend('throttle', describe)).toBe(true); // second rule, now spent
    expect(spend('throttle', describe)).toBe(false);
  });
});
