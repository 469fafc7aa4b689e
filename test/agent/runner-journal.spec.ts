import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Observable, firstValueFrom, tap } from 'rxjs';
import { type JobsClient, connectMqtt, createJobsClient, mqttTransport } from '../../src';
import { checkpoint, progress, succeeded, type HandlerEvent, type JobHandler } from '../../src/agent/handler';
import { openJournal } from '../../src/agent/journal';
import { anyDocument, completingHandler, createHarness, type Harness, jobIdOf, kinds } from './runner-harness';

/** Claims every document; checkpoints then waits (a reboot pending); on resume, finishes from the checkpoint. */
const updater = (resumable: boolean, seen: { resumedWith?: unknown } = {}): JobHandler => ({
  name: 'updater',
  resumable,
  match: anyDocument,
  run: (job) =>
    new Observable<HandlerEvent>((subscriber) => {
      if (job.resumed) {
        seen.resumedWith = job.checkpoint;
        subscriber.next(succeeded({ verified: 'v2' }));
        subscriber.complete();
        return;
      }
      subscriber.next(progress(40, {}, 'install'));
      subscriber.next(checkpoint({ phase: 'rebooting', target: 'v2' }, 'reboot'));
    }),
});

const running = (path: string): unknown => (JSON.parse(readFileSync(path, 'utf8')) as { running?: unknown }).running;

describe('runJobs: journal, restarts and delivery', () => {
  let harness: Harness;

  beforeEach(async () => {
    harness = await createHarness('thing-A', 400);
  });

  afterEach(async () => {
    await harness.close();
  });

  it('runner journal - a resumable handler continues from its checkpoint after a restart', async () => {
    const journal = join(harness.dir, 'journal.json');
    harness.addJob('job-1', { operation: 'update' });
    const first = harness.start({ handlers: [updater(true)], journal });
    await first.waitFor((event) => event.kind === 'progress');
    first.stop(); // the device reboots
    expect(running(journal)).toMatchObject({ jobId: 'job-1', handler: 'updater', step: 'reboot', checkpoint: { phase: 'rebooting', target: 'v2' } });
    expect(harness.status('job-1').status).toBe('IN_PROGRESS');

    const seen: { resumedWith?: unknown } = {};
    const second = harness.start({ handlers: [updater(true, seen)], journal });
    await second.waitFor((event) => event.kind === 'reported');
    expect(kinds(second.events, 'job-1')).toEqual(['resumed', 'succeeded', 'reported']);
    expect(seen.resumedWith).toEqual({ phase: 'rebooting', target: 'v2' });
    expect(harness.status('job-1')).toMatchObject({ status: 'SUCCEEDED', statusDetails: { verified: 'v2' } });
    expect(running(journal)).toBeUndefined();
  });

  it('runner journal - a handler that cannot resume ends FAILED "interrupted", never stuck IN_PROGRESS', async () => {
    const journal = join(harness.dir, 'journal.json');
    harness.addJob('job-1', {});
    const first = harness.start({ handlers: [updater(false)], journal });
    await first.waitFor((event) => event.kind === 'progress');
    first.stop();
    const second = harness.start({ handlers: [updater(false)], journal });
    const failure = await second.waitFor((event) => event.kind === 'failed');
    expect(failure).toMatchObject({ jobId: 'job-1', reason: 'interrupted' });
    await second.waitFor((event) => event.kind === 'reported');
    expect(harness.status('job-1')).toMatchObject({ status: 'FAILED', statusDetails: { reason: 'interrupted' } });
  });

  it('runner journal - an execution canceled while the device was off is dropped, with no status sent', async () => {
    const journal = join(harness.dir, 'journal.json');
    harness.addJob('job-1', {});
    const first = harness.start({ handlers: [updater(true)], journal });
    await first.waitFor((event) => event.kind === 'progress');
    first.stop();
    expect(harness.emulator.engine.cancelJob('job-1', { force: true }).ok).toBe(true);
    harness.addJob('job-2', {});
    const second = harness.start({ handlers: [updater(true)], journal });
    await second.waitFor((event) => event.kind === 'canceled' && event.jobId === 'job-1');
    await second.waitFor((event) => event.kind === 'started' && event.jobId === 'job-2');
    expect(harness.status('job-1').status).toBe('CANCELED');
  });

  it('runner journal - the outbox is delivered first, in order, after a crash between decision and delivery', async () => {
    const path = join(harness.dir, 'journal.json');
    harness.addJob('job-1', {});
    const started = await firstValueFrom(harness.jobs.startNextPendingJobExecution());
    expect(started.execution?.jobId).toBe('job-1');
    // What a crash right after the handler finished leaves behind.
    const { journal } = openJournal(path);
    journal.begin({ jobId: jobIdOf('job-1'), executionNumber: 1, versionNumber: 2, handler: 'updater' });
    journal.complete({ jobId: jobIdOf('job-1'), executionNumber: 1, status: 'SUCCEEDED' }, { jobId: jobIdOf('job-1'), executionNumber: 1, status: 'SUCCEEDED', statusDetails: { result: 'done before the crash' } });

    const runner = harness.start({ handlers: [updater(true)], journal: path });
    const first = await runner.waitFor(() => true);
    expect(first).toMatchObject({ kind: 'reported', jobId: 'job-1', status: 'SUCCEEDED' });
    expect(harness.status('job-1')).toMatchObject({ status: 'SUCCEEDED', statusDetails: { result: 'done before the crash' } });
    expect(openJournal(path).journal.outbox).toEqual([]);
  });

  it('runner journal - a corrupt journal is moved aside with a clear message and the runner goes on', async () => {
    const path = join(harness.dir, 'journal.json');
    writeFileSync(path, '{"version": 1, "outbox": [tru');
    harness.addJob('job-1', {});
    const runner = harness.start({ handlers: [updater(true)], journal: path });
    const notice = await runner.waitFor((event) => event.kind === 'error');
    expect(notice).toMatchObject({ error: { name: 'JournalError' } });
    expect(notice.kind === 'error' ? notice.error.message : '').toMatch(/is corrupt .*moved it to .*journal\.json\.corrupt-/);
    expect(readdirSync(harness.dir).some((name) => name.startsWith('journal.json.corrupt-'))).toBe(true);
    await runner.waitFor((event) => event.kind === 'started');
    expect(existsSync(path)).toBe(true);
  });

  it('runner journal - throttled status updates are retried until accepted', async () => {
    harness.emulator.faults.throttleNext(3, { operation: 'updateJobExecution' });
    harness.addJob('job-1', {});
    const runner = harness.start({ handlers: [completingHandler('quick')] });
    const reported = await runner.waitFor((event) => event.kind === 'reported');
    expect(reported).toMatchObject({ status: 'SUCCEEDED', attempts: 4 });
    expect(harness.status('job-1').status).toBe('SUCCEEDED');
  });

  it('runner journal - a lost reply to the final update is recognised as our own success', async () => {
    harness.emulator.faults.dropRepliesNext(1, { operation: 'updateJobExecution' });
    harness.addJob('job-1', {});
    const runner = harness.start({ handlers: [completingHandler('quick')] });
    const reported = await runner.waitFor((event) => event.kind === 'reported');
    expect(reported).toMatchObject({ status: 'SUCCEEDED' });
    expect(reported.kind === 'reported' && reported.attempts).toBeGreaterThanOrEqual(2);
    expect(runner.events.filter((event) => event.kind === 'error')).toEqual([]);
    expect(harness.status('job-1').status).toBe('SUCCEEDED');
  });

  it('runner journal - duplicate notifications never run a job twice', async () => {
    const runs: string[] = [];
    const counting: JobHandler = {
      name: 'counting',
      match: anyDocument,
      run: (job) =>
        new Observable<HandlerEvent>((subscriber) => {
          runs.push(job.jobId);
          subscriber.next(progress(50));
          const timer = setTimeout(() => {
            subscriber.complete();
          }, 150);
          return () => {
            clearTimeout(timer);
          };
        }),
    };
    harness.addJob('job-1', {});
    const runner = harness.start({ handlers: [counting] });
    await runner.waitFor((event) => event.kind === 'started');
    const other = await connectMqtt({ url: harness.emulator.mqttUrl, clientId: 'noise' });
    const next = await firstValueFrom(harness.jobs.describeJobExecution({ jobId: '$next' }));
    const payload = JSON.stringify({ timestamp: 1, execution: { ...next.execution, queuedAt: 1, lastUpdatedAt: 1, startedAt: 1 } });
    for (let i = 0; i < 5; i += 1) await other.publishAsync('$aws/things/thing-A/jobs/notify-next', payload);
    await runner.waitFor((event) => event.kind === 'reported');
    for (let i = 0; i < 3; i += 1) await other.publishAsync('$aws/things/thing-A/jobs/notify-next', payload);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await other.endAsync(true);
    expect(runs).toEqual(['job-1']);
    expect(kinds(runner.events, 'job-1')).toEqual(['started', 'progress', 'succeeded', 'reported']);
  });

  it('runner journal - progress that meets a VersionMismatch re-reads the execution and goes on', async () => {
    let push: ((event: HandlerEvent) => void) | undefined;
    let finish: (() => void) | undefined;
    const remote: JobHandler = {
      name: 'remote',
      match: anyDocument,
      run: () =>
        new Observable<HandlerEvent>((subscriber) => {
          push = (event) => {
            subscriber.next(event);
          };
          finish = () => {
            subscriber.complete();
          };
        }),
    };
    harness.addJob('job-1', {});
    const refusals: string[] = [];
    const spied: JobsClient = {
      ...harness.jobs,
      updateJobExecution: (request) =>
        harness.jobs.updateJobExecution(request).pipe(tap({ error: (error: unknown) => refusals.push(error instanceof Error && 'code' in error ? String(error.code) : String(error)) })),
    };
    const runner = harness.start({ handlers: [remote] }, spied);
    await runner.waitFor((event) => event.kind === 'started');
    // Someone else (another process on the device) updates the execution: our version is now stale.
    await firstValueFrom(harness.jobs.updateJobExecution({ jobId: 'job-1', status: 'IN_PROGRESS', statusDetails: { by: 'other' } }));
    push?.(progress(60, { by: 'runner' }));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(harness.status('job-1').statusDetails).toMatchObject({ by: 'runner', progress: '60%' });
    expect(refusals).toEqual(['VersionMismatch']);
    finish?.();
    await runner.waitFor((event) => event.kind === 'reported');
    expect(runner.events.filter((event) => event.kind === 'error')).toEqual([]);
    expect(harness.status('job-1').status).toBe('SUCCEEDED');
  });

  it('runner journal - a job id reused after the old job was deleted is a new job and runs again', async () => {
    const journal = join(harness.dir, 'journal.json');
    const ran: unknown[] = [];
    const recording: JobHandler = {
      name: 'recording',
      match: anyDocument,
      run: (job) =>
        new Observable<HandlerEvent>((subscriber) => {
          ran.push(job.document);
          subscriber.next(succeeded({ ran: String(ran.length) }));
        }),
    };
    harness.addJob('update-app', { version: '1.0' });
    const runner = harness.start({ handlers: [recording], journal });
    await runner.waitFor((event) => event.kind === 'reported' && event.jobId === 'update-app');
    expect(harness.emulator.engine.deleteJob('update-app', true).ok).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 1100)); // queuedAt is in whole seconds on the wire
    harness.addJob('update-app', { version: '2.0' });
    await runner.waitFor((event) => event.kind === 'reported' && event.jobId === 'update-app' && runner.events.filter((e) => e.kind === 'reported').length === 2);
    expect(ran).toEqual([{ version: '1.0' }, { version: '2.0' }]);
    expect(harness.status('update-app')).toMatchObject({ status: 'SUCCEEDED', statusDetails: { ran: '2' } });
  });

  it('runner journal - an outcome decided while the connection is down is delivered after the reconnect', async () => {
    const { emulator } = harness;
    const mqtt = await connectMqtt({ url: emulator.mqttUrl, clientId: 'thing-A-flaky', reconnectPeriodMs: 200 });
    const jobs = createJobsClient({ thingName: 'thing-A', transport: mqttTransport(mqtt, { lingerMs: 0 }), timeoutMs: 300 });
    let finish: (() => void) | undefined;
    const gated: JobHandler = {
      name: 'gated',
      match: anyDocument,
      run: () => new Observable<HandlerEvent>((subscriber) => {
        subscriber.next(progress(50));
        finish = () => {
          subscriber.complete();
        };
      }),
    };
    harness.addJob('job-1', {});
    const runner = harness.start({ handlers: [gated] }, jobs);
    try {
      await runner.waitFor((event) => event.kind === 'progress');
      mqtt.stream.destroy(); // the network drops
      finish?.();
      await runner.waitFor((event) => event.kind === 'succeeded');
      expect(harness.status('job-1').status).toBe('IN_PROGRESS');
      const reported = await runner.waitFor((event) => event.kind === 'reported', 10_000);
      expect(reported).toMatchObject({ status: 'SUCCEEDED' });
      expect(harness.status('job-1').status).toBe('SUCCEEDED');
    } finally {
      runner.stop();
      await mqtt.endAsync(true);
    }
  });

  it('runner journal - an undelivered outcome never reaches a job created again with the same id', async () => {
    const path = join(harness.dir, 'journal.json');
    const old = new Date('2026-01-01T00:00:00Z');
    // What a runner that died before delivering update-app#1 leaves; the operator then deleted the stuck job.
    const { journal } = openJournal(path);
    journal.begin({ jobId: jobIdOf('update-app'), executionNumber: 1, versionNumber: 2, handler: 'recording', queuedAt: old });
    journal.complete(
      { jobId: jobIdOf('update-app'), executionNumber: 1, status: 'SUCCEEDED' },
      { jobId: jobIdOf('update-app'), executionNumber: 1, status: 'SUCCEEDED', statusDetails: { ran: 'old' }, queuedAt: old },
    );
    harness.addJob('update-app', { version: '2.0' });
    const ran: unknown[] = [];
    const recording: JobHandler = {
      name: 'recording',
      match: anyDocument,
      run: (job) =>
        new Observable<HandlerEvent>((subscriber) => {
          ran.push(job.document);
          subscriber.next(succeeded({ ran: 'new' }));
        }),
    };
    const runner = harness.start({ handlers: [recording], journal: path });
    const dropped = await runner.waitFor((event) => event.kind === 'error');
    expect(dropped.kind === 'error' ? dropped.error.message : '').toMatch(/^dropped the undelivered SUCCEEDED of update-app#1: the execution was created again/);
    await runner.waitFor((event) => event.kind === 'reported');
    expect(ran).toEqual([{ version: '2.0' }]);
    expect(harness.status('update-app')).toMatchObject({ status: 'SUCCEEDED', statusDetails: { ran: 'new' } });
  });
});
