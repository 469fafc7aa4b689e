import { firstValueFrom, take, toArray, VirtualTimeScheduler } from 'rxjs';
import type { MqttClient } from 'mqtt';
import { connectMqtt, createJobsClient, mqttTransport } from '../../src';
import { startEmulator, type Emulator } from '../../src/emulator';
import type { CreateJobParams } from '../../src/emulator/engine/control';
import { job } from '../helpers/names';
import { advanceBy } from '../helpers/virtual-time';

/**
 * Step timers, the job in-progress timeout and retries on virtual time: `startEmulator({ scheduler })` with an
 * rxjs VirtualTimeScheduler, whose now() starts at 0 (so the engine's clock, and every timestamp it writes, is
 * epoch 0 + virtual time). Minutes of job time run in microseconds of test time.
 */

const minute = 60_000;
const arn = (thing: string) => `arn:aws:iot:us-east-1:123456789012:thing/${thing}`;

let scheduler: VirtualTimeScheduler;
let emulator: Emulator;
let client: MqttClient | undefined;
let startedAt: number;

beforeEach(async () => {
  scheduler = new VirtualTimeScheduler();
  emulator = await startEmulator({ scheduler });
  startedAt = Date.now();
});

afterEach(async () => {
  await client?.endAsync(true);
  client = undefined;
  await emulator.close();
});

const advance = (ms: number): void => advanceBy(scheduler, ms);

const createJob = (jobId: string, extra: Partial<CreateJobParams> = {}, thing = 'thing-A'): void => {
  const result = emulator.engine.createJob({ jobId, targets: [arn(thing)], document: JSON.stringify({ op: jobId }), ...extra });
  if (!result.ok) throw new Error(result.message);
};

const statusOf = (jobId: string, thing = 'thing-A'): string => {
  const found = emulator.engine.describeExecution(jobId, thing);
  return found.ok ? `${found.value.executionNumber}:${found.value.status}` : found.exception;
};

const secondsLeft = (jobId: string): number | undefined => {
  const described = emulator.engine.describeJobExecution('thing-A', { jobId: job(jobId) });
  return described.ok ? described.value.execution?.approximateSecondsBeforeTimedOut : undefined;
};

describe('emulator timers on virtual time', () => {
  it('emulator timers - a step timer of 10 minutes times the execution out after exactly 10 virtual minutes', () => {
    expect(scheduler.now()).toBe(0);
    createJob('job-1');
    expect(emulator.engine.startNextPendingJobExecution('thing-A', { stepTimeoutInMinutes: 10 })).toMatchObject({
      ok: true, value: { execution: { status: 'IN_PROGRESS', startedAt: new Date(0), approximateSecondsBeforeTimedOut: 600 } },
    });
    advance(4 * minute);
    expect(secondsLeft('job-1')).toBe(360);
    advance(6 * minute - 1);
    expect(statusOf('job-1')).toBe('1:IN_PROGRESS');
    advance(1);
    expect(statusOf('job-1')).toBe('1:TIMED_OUT');
    expect(emulator.engine.describeExecution('job-1', 'thing-A')).toMatchObject({ ok: true, value: { lastUpdatedAt: 10 * minute, versionNumber: 2 } });
    // The only execution of a snapshot job is terminal: the job is done, and no timer is left.
    expect(emulator.engine.describeJob('job-1')).toMatchObject({ ok: true, value: { status: 'COMPLETED', completedAt: 10 * minute } });
    expect(emulator.engine.nextDeadline()).toBeUndefined();
    expect(scheduler.actions).toHaveLength(0);
    expect(Date.now() - startedAt).toBeLessThan(1000);
  });

  it('emulator timers - an update replaces the step timer; -1 cancels it while the in-progress timer keeps running', () => {
    createJob('job-1', { inProgressTimeoutInMinutes: 60 });
    emulator.engine.startNextPendingJobExecution('thing-A', { stepTimeoutInMinutes: 10 });
    advance(5 * minute);
    expect(emulator.engine.updateJobExecution('thing-A', { jobId: job('job-1'), status: 'IN_PROGRESS', stepTimeoutInMinutes: 10 })).toMatchObject({ ok: true });
    expect(secondsLeft('job-1')).toBe(600);
    advance(9 * minute);
    expect(statusOf('job-1')).toBe('1:IN_PROGRESS');
    expect(emulator.engine.updateJobExecution('thing-A', { jobId: job('job-1'), status: 'IN_PROGRESS', stepTimeoutInMinutes: -1 })).toMatchObject({ ok: true });
    // Only the job's in-progress timer is left: 60 minutes from the start, 46 from now.
    expect(secondsLeft('job-1')).toBe(46 * 60);
    advance(46 * minute - 1);
    expect(statusOf('job-1')).toBe('1:IN_PROGRESS');
    advance(1);
    expect(statusOf('job-1')).toBe('1:TIMED_OUT');
  });

  it('emulator timers - the job in-progress timeout caps a longer step timer, from StartNext and from Update', () => {
    createJob('job-1', { inProgressTimeoutInMinutes: 2 });
    expect(emulator.engine.startNextPendingJobExecution('thing-A', { stepTimeoutInMinutes: 10 })).toMatchObject({
      ok: true, value: { execution: { approximateSecondsBeforeTimedOut: 120 } },
    });
    advance(1 * minute);
    emulator.engine.updateJobExecution('thing-A', { jobId: job('job-1'), status: 'IN_PROGRESS', stepTimeoutInMinutes: 30 });
    expect(secondsLeft('job-1')).toBe(60);
    advance(1 * minute);
    expect(statusOf('job-1')).toBe('1:TIMED_OUT');
  });

  it('emulator timers - a finished execution stops its timers; executions of several things time out each at its own deadline', () => {
    createJob('job-1', { inProgressTimeoutInMinutes: 5 });
    emulator.engine.startNextPendingJobExecution('thing-A', { stepTimeoutInMinutes: 3 });
    emulator.engine.updateJobExecution('thing-A', { jobId: job('job-1'), status: 'SUCCEEDED' });
    expect(scheduler.actions).toHaveLength(0);
    advance(10 * minute);
    expect(statusOf('job-1')).toBe('1:SUCCEEDED');

    createJob('job-2', {}, 'thing-B');
    createJob('job-3', {}, 'thing-C');
    emulator.engine.startNextPendingJobExecution('thing-C', { stepTimeoutInMinutes: 7 });
    emulator.engine.startNextPendingJobExecution('thing-B', { stepTimeoutInMinutes: 3 });
    advance(3 * minute);
    expect([statusOf('job-2', 'thing-B'), statusOf('job-3', 'thing-C')]).toEqual(['1:TIMED_OUT', '1:IN_PROGRESS']);
    advance(4 * minute);
    expect([statusOf('job-2', 'thing-B'), statusOf('job-3', 'thing-C')]).toEqual(['1:TIMED_OUT', '1:TIMED_OUT']);
  });

  it('emulator timers - retry config re-queues a TIMED_OUT execution with a new executionNumber, as often as allowed', () => {
    createJob('job-1', { retryCriteria: [{ failureType: 'TIMED_OUT', numberOfRetries: 1 }] });
    emulator.engine.startNextPendingJobExecution('thing-A', { stepTimeoutInMinutes: 1, statusDetails: { step: 'download' } });
    advance(1 * minute);
    expect(emulator.engine.listExecutionsForThing('thing-A').map((e) => `${e.executionNumber}:${e.status}:v${e.versionNumber}`)).toEqual([
      '1:TIMED_OUT:v2',
      '2:QUEUED:v1',
    ]);
    expect(emulator.engine.getPendingJobExecutions('thing-A')).toMatchObject({ queuedJobs: [{ jobId: 'job-1', executionNumber: 2, versionNumber: 1 }] });
    expect(emulator.engine.describeJob('job-1')).toMatchObject({ ok: true, value: { status: 'IN_PROGRESS' } });

    const again = emulator.engine.startNextPendingJobExecution('thing-A', { stepTimeoutInMinutes: 1 });
    expect(again).toMatchObject({ ok: true, value: { execution: { jobId: 'job-1', executionNumber: 2, versionNumber: 2 } } });
    advance(1 * minute);
    // The one retry is used up: no third execution, and the job is done.
    expect(emulator.engine.listExecutionsForThing('thing-A').map((e) => `${e.executionNumber}:${e.status}`)).toEqual(['1:TIMED_OUT', '2:TIMED_OUT']);
    expect(emulator.engine.describeJob('job-1')).toMatchObject({ ok: true, value: { status: 'COMPLETED' } });

    // A TIMED_OUT-only criterion does not retry a FAILED execution.
    createJob('job-2', { retryCriteria: [{ failureType: 'TIMED_OUT', numberOfRetries: 3 }] });
    emulator.engine.updateJobExecution('thing-A', { jobId: job('job-2'), status: 'FAILED' });
    expect(emulator.engine.listExecutionsForThing('thing-A').filter((e) => e.jobId === 'job-2').map((e) => `${e.executionNumber}:${e.status}`)).toEqual(['1:FAILED']);
  });

  it('emulator timers - a TIMED_OUT reaches our MQTT client as notify and notify-next, stamped with virtual time', async () => {
    client = await connectMqtt({ url: emulator.mqttUrl, clientId: 'thing-A', reconnectPeriodMs: 0 });
    const jobs = createJobsClient({ thingName: 'thing-A', transport: mqttTransport(client, { lingerMs: 0 }), timeoutMs: 2000 });
    createJob('job-1', { retryCriteria: [{ failureType: 'TIMED_OUT', numberOfRetries: 1 }] });
    createJob('job-2');
    const next = firstValueFrom(jobs.nextJobExecutionChanged().pipe(take(1)));
    const changed = firstValueFrom(jobs.jobExecutionsChanged().pipe(take(1), toArray()));
    const started = await firstValueFrom(jobs.startNextPendingJobExecution({ stepTimeoutInMinutes: 10 }));
    expect(started.execution).toMatchObject({ jobId: 'job-1', status: 'IN_PROGRESS', approximateSecondsBeforeTimedOut: 600 });

    advance(10 * minute);
    // job-1 timed out and was re-queued behind job-2: job-2 is next now.
    expect((await changed).map((e) => e.jobs.QUEUED?.map((j) => `${j.jobId}#${j.executionNumber}`))).toEqual([['job-2#1', 'job-1#2']]);
    expect(await next).toMatchObject({ timestamp: new Date(10 * minute), execution: { jobId: 'job-2', status: 'QUEUED' } });
    await expect(firstValueFrom(jobs.describeJobExecution({ jobId: job('job-1'), executionNumber: 1 }))).resolves.toMatchObject({
      execution: { status: 'TIMED_OUT', lastUpdatedAt: new Date(10 * minute) },
    });
  });
});

describe('emulator state file', () => {
  it('state file - a missing file is an empty start, also inside a test sandbox', async () => {
    const fs = await import('node:fs');
    const path = await import('node:path');
    const os = await import('node:os');
    const stateFile = await import('../../src/emulator/state-file');
    expect(stateFile.readStateFile(path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'state-')), 'none.json'))).toBeUndefined();
  });
});
