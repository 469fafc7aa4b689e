import type { MqttClient } from 'mqtt';
import { firstValueFrom, VirtualTimeScheduler } from 'rxjs';
import { RejectedError, connectMqtt, createJobsClient, httpsTransport, mqttTransport, type JobsClient } from '../../src';
import { startEmulator, type Emulator, type EmulatorOptions } from '../../src/emulator';
import { createRateLimiter } from '../../src/emulator/rate-limit';
import { advanceBy } from '../helpers/virtual-time';
import { pendingOutcome } from '../helpers/outcome';

/**
 * The device-API rate limit (`rateLimit`): a token bucket per thing over MQTT and HTTP together, on the
 * emulator's clock, here a VirtualTimeScheduler, so refills are exact. The HTTPS transport signs on the same
 * virtual clock, as the data plane checks signature dates against it.
 */

const arn = (thing: string) => `arn:aws:iot:us-east-1:123456789012:thing/${thing}`;

let scheduler: VirtualTimeScheduler;
let emulator: Emulator;
let client: MqttClient;

const start = async (options: EmulatorOptions): Promise<void> => {
  scheduler = new VirtualTimeScheduler();
  emulator = await startEmulator({ scheduler, ...options });
  client = await connectMqtt({ url: emulator.mqttUrl, clientId: 'tester' });
};

afterEach(async () => {
  await client.endAsync(true);
  await emulator.close();
});

const advance = (ms: number): void => advanceBy(scheduler, ms);

const overMqtt = (thingName = 'thing-A'): JobsClient =>
  createJobsClient({ thingName, transport: mqttTransport(client, { lingerMs: 0 }), timeoutMs: 5000 });

const overHttp = (thingName = 'thing-A'): JobsClient =>
  createJobsClient({
    thingName,
    transport: httpsTransport({ endpoint: emulator.dataEndpoint, region: 'us-east-1', credentials: emulator.credentials, scheduler }),
    timeoutMs: 5000,
  });

const outcome = pendingOutcome;

describe('emulator throttling', () => {
  it('throttling - MQTT: past the burst a request is rejected RequestThrottled; the bucket refills on the clock', async () => {
    await start({ rateLimit: { requestsPerSecond: 2, burst: 2 } });
    const jobs = overMqtt();
    expect([await outcome(jobs), await outcome(jobs), await outcome(jobs)]).toEqual(['ok', 'ok', 'RequestThrottled']);
    advance(499);
    expect(await outcome(jobs)).toBe('RequestThrottled');
    advance(1);
    expect([await outcome(jobs), await outcome(jobs)]).toEqual(['ok', 'RequestThrottled']);
    advance(1000);
    expect([await outcome(jobs), await outcome(jobs), await outcome(jobs)]).toEqual(['ok', 'ok', 'RequestThrottled']);
  });

  it('throttling - MQTT: the rejection echoes the clientToken and carries a message and timestamp', async () => {
    await start({ rateLimit: { requestsPerSecond: 1, burst: 1 } });
    await client.subscribeAsync('$aws/things/thing-A/jobs/get/+');
    const replies: { topic: string; body: unknown }[] = [];
    client.on('message', (topic, payload) => replies.push({ topic, body: JSON.parse(payload.toString()) }));
    const send = async (clientToken: string) => {
      const seen = replies.length;
      await client.publishAsync('$aws/things/thing-A/jobs/get', JSON.stringify({ clientToken }), { qos: 1 });
      while (replies.length === seen) await new Promise((resolve) => setImmediate(resolve));
      return replies[seen];
    };
    expect(await send('tok-1')).toMatchObject({ topic: '$aws/things/thing-A/jobs/get/accepted', body: { clientToken: 'tok-1' } });
    expect(await send('tok-2')).toEqual({
      topic: '$aws/things/thing-A/jobs/get/rejected',
      body: { code: 'RequestThrottled', clientToken: 'tok-2', message: expect.stringContaining('Rate exceeded'), timestamp: 0 },
    });
  });

  it('throttling - HTTP: 429 ThrottlingException, a RejectedError with code RequestThrottled and httpStatus 429', async () => {
    await start({ rateLimit: { requestsPerSecond: 1, burst: 1 } });
    const jobs = overHttp();
    expect(await outcome(jobs)).toBe('ok');
    const error: unknown = await firstValueFrom(jobs.getPendingJobExecutions()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RejectedError);
    expect(error).toMatchObject({ code: 'RequestThrottled', httpStatus: 429, exceptionName: 'ThrottlingException', message: expect.stringContaining('Rate exceeded') });
    advance(1000);
    expect(await outcome(jobs)).toBe('ok');
  });

  it('throttling - one bucket per thing, shared by MQTT and HTTP', async () => {
    await start({ rateLimit: { requestsPerSecond: 2, burst: 2 } });
    expect(await outcome(overMqtt())).toBe('ok');
    expect(await outcome(overHttp())).toBe('ok');
    expect(await outcome(overHttp())).toBe('RequestThrottled 429');
    expect(await outcome(overMqtt())).toBe('RequestThrottled');
    // thing-B's bucket is full.
    expect([await outcome(overMqtt('thing-B')), await outcome(overHttp('thing-B')), await outcome(overMqtt('thing-B'))]).toEqual([
      'ok',
      'ok',
      'RequestThrottled',
    ]);
  });

  it('throttling - a throttled request is not applied', async () => {
    await start({ rateLimit: { requestsPerSecond: 1, burst: 1 } });
    const created = emulator.engine.createJob({ jobId: 'job-1', targets: [arn('thing-A')], document: '{}' });
    expect(created.ok).toBe(true);
    const jobs = overMqtt();
    expect(await outcome(jobs)).toBe('ok');
    await expect(firstValueFrom(jobs.startNextPendingJobExecution({}))).rejects.toMatchObject({ code: 'RequestThrottled' });
    await expect(firstValueFrom(overHttp().updateJobExecution({ jobId: 'job-1', status: 'IN_PROGRESS' }))).rejects.toMatchObject({ httpStatus: 429 });
    expect(emulator.engine.describeExecution('job-1', 'thing-A')).toMatchObject({ ok: true, value: { status: 'QUEUED', versionNumber: 1 } });
  });

  it('throttling - burst defaults to the rate rounded up', async () => {
    await start({ rateLimit: { requestsPerSecond: 2.5 } });
    const jobs = overMqtt();
    const results = [];
    for (let i = 0; i < 4; i += 1) results.push(await outcome(jobs));
    expect(results).toEqual(['ok', 'ok', 'ok', 'RequestThrottled']);
    advance(400); // one token per 400 ms
    expect([await outcome(jobs), await outcome(jobs)]).toEqual(['ok', 'RequestThrottled']);
  });

  it('throttling - no rate limit unless set', async () => {
    await start({});
    const jobs = overMqtt();
    const results = await Promise.all(Array.from({ length: 60 }, () => outcome(jobs)));
    expect(results.filter((r) => r !== 'ok')).toEqual([]);
  });

  it('throttling - a bad rate limit is refused before anything listens', async () => {
    for (const rateLimit of [{ requestsPerSecond: 0 }, { requestsPerSecond: Number.NaN }, { requestsPerSecond: 5, burst: 0 }, { requestsPerSecond: 5, burst: 1.5 }]) {
      await expect(startEmulator({ rateLimit })).rejects.toThrow(RangeError);
    }
  });
});

describe('createRateLimiter', () => {
  it('rate limiter - a fractional rate: one request per 2 s, burst 1; refusals do not delay the next token', () => {
    let clock = 1_000_000;
    const take = createRateLimiter({ requestsPerSecond: 0.5 }, () => clock);
    expect([take('a'), take('a'), take('b')]).toEqual([true, false, true]);
    for (let i = 0; i < 10; i += 1) {
      clock += 100;
      expect(take('a')).toBe(false);
    }
    clock += 999; // 1999 ms after the first
    expect(take('a')).toBe(false);
    clock += 1;
    expect([take('a'), take('a')]).toEqual([true, false]);
  });

  it('rate limiter - a rate of 3/s with burst 3 refills one token every 333.3 ms without drift', () => {
    let clock = 0;
    const take = createRateLimiter({ requestsPerSecond: 3, burst: 3 }, () => clock);
    expect([take('a'), take('a'), take('a'), take('a')]).toEqual([true, true, true, false]);
    let served = 0;
    for (clock = 1; clock <= 30_000; clock += 1) if (take('a')) served += 1;
    expect(served).toBe(90);
  });
});
