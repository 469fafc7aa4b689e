import * as t from 'io-ts';
import { NEVER, Observable, Subject, concat, firstValueFrom, of, throwError } from 'rxjs';
import { checkpoint, defineHandler, failed, progress, succeeded, type HandlerEvent, type JobHandler } from '../../src/agent/handler';
import { deviceClientHandler } from '../../src/agent/device-client-handler';
import { runJobs } from '../../src/agent/run-jobs';
import { InvalidRequestError, connectMqtt, createJobsClient, httpsTransport, type JobsClient } from '../../src';
import { groupAlive, groupGone, journaledStepGroup } from '../helpers/process-group';
import { anyDocument, completingHandler, createHarness, type Harness, kinds, waitingHandler } from './runner-harness';

const Install = t.type({ operation: t.literal('install'), version: t.string });

/** A handler that reports two progress steps and succeeds. */
const install = defineHandler({
  name: 'install',
  document: Install,
  run: (job) => concat(of(progress(50, { version: job.document.version }, 'download')), of(progress(100, {}, 'install')), of(succeeded({ installed: job.document.version }))),
});

const isOp = (document: unknown, operation: string): boolean =>
  typeof document === 'object' && document !== null && 'operation' in document && document.operation === operation;

describe('runJobs on the emulator', () => {
  let harness: Harness;

  beforeEach(async () => {
    harness = await createHarness();
  });

  afterEach(async () => {
    await harness.close();
  });

  // Found by review: details holding a "__proto__" key (from JSON.parse in a handler) made the SUCCEEDED
  // update an InvalidRequestError, which the runner dropped: the service kept the execution IN_PROGRESS.
  it('run jobs - details with a "__proto__" key (from JSON.parse): the key is dropped and SUCCEEDED reaches the service', async () => {
    harness.addJob('job-1', { operation: 'x' });
    const details: unknown = JSON.parse('{"result":"ok","__proto__":"from-child"}');
    const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null;
    if (!isRecord(details)) throw new Error('not an object');
    const runner = harness.start({ handlers: [{ name: 'h', match: anyDocument, run: () => of(succeeded(details)) }] });
    const event = await runner.waitFor((e) => e.kind === 'succeeded' || e.kind === 'error' || e.kind === 'failed', 3000);
    expect(event.kind).toBe('succeeded');
    // The service has it once the runner says `reported`.
    await runner.waitFor((e) => e.kind === 'reported' || e.kind === 'error', 3000);
    expect(harness.status('job-1').status).toBe('SUCCEEDED');
    expect(harness.status('job-1').statusDetails).toEqual({ result: 'ok' });
  });

  it('run jobs - runs a job to SUCCEEDED with its progress and final details', async () => {
    harness.addJob('job-1', { operation: 'install', version: '2.0.1' });
    const runner = harness.start({ handlers: [install] });
    await runner.waitFor((event) => event.kind === 'reported');
    expect(kinds(runner.events, 'job-1')).toEqual(['started', 'progress', 'progress', 'succeeded', 'reported']);
    expect(harness.status('job-1')).toMatchObject({ status: 'SUCCEEDED', statusDetails: { installed: '2.0.1' } });
    expect(runner.events[1]).toMatchObject({ kind: 'progress', percent: 50, step: 'download', statusDetails: { progress: '50%', step: 'download', version: '2.0.1' } });
  });

  it('run jobs - takes jobs queued later from notify-next, one at a time, in order', async () => {
    const runner = harness.start({ handlers: [install] });
    // Nothing queued: the start-up StartNext finds nothing; the jobs arrive by notification.
    await new Promise((resolve) => setTimeout(resolve, 100));
    harness.addJob('job-a', { operation: 'install', version: '1' });
    harness.addJob('job-b', { operation: 'install', version: '2' });
    await runner.waitFor((event) => event.kind === 'reported' && event.jobId === 'job-b');
    const started = runner.events.filter((event) => event.kind === 'started').map((event) => ('jobId' in event ? event.jobId : ''));
    expect(started).toEqual(['job-a', 'job-b']);
    expect(harness.status('job-a').status).toBe('SUCCEEDED');
    expect(harness.status('job-b').status).toBe('SUCCEEDED');
  });

  it('run jobs - a handler error ends the job FAILED with its message as reason', async () => {
    const broken = defineHandler({ name: 'install', document: Install, run: () => concat(of(progress(5)), throwError(() => new Error('disk full'))) });
    harness.addJob('job-1', { operation: 'install', version: '1' });
    const runner = harness.start({ handlers: [broken] });
    await runner.waitFor((event) => event.kind === 'reported');
    expect(kinds(runner.events, 'job-1')).toEqual(['started', 'progress', 'failed', 'reported']);
    expect(harness.status('job-1')).toMatchObject({ status: 'FAILED', statusDetails: { reason: 'disk full' } });
  });

  it('run jobs - a done FAILED event ends the job FAILED with its details', async () => {
    const refusing = defineHandler({ name: 'install', document: Install, run: () => of(failed('checksum mismatch', { expected: 'abc' })) });
    harness.addJob('job-1', { operation: 'install', version: '1' });
    const runner = harness.start({ handlers: [refusing] });
    await runner.waitFor((event) => event.kind === 'reported');
    expect(harness.status('job-1')).toMatchObject({ status: 'FAILED', statusDetails: { reason: 'checksum mismatch', expected: 'abc' } });
  });

  it('run jobs - an unknown document and an invalid one are REJECTED with a reason', async () => {
    harness.addJob('job-unknown', { operation: 'teleport' });
    harness.addJob('job-invalid', { operation: 'install', version: 7 });
    const runner = harness.start({ handlers: [install] });
    await runner.waitFor((event) => event.kind === 'reported' && event.jobId === 'job-invalid');
    expect(harness.status('job-unknown')).toMatchObject({ status: 'REJECTED', statusDetails: { reason: 'no handler on this device accepts this job document' } });
    const invalid = harness.status('job-invalid');
    expect(invalid.status).toBe('REJECTED');
    expect(invalid.statusDetails['reason']).toMatch(/^invalid install job document: .*version/);
    expect(kinds(runner.events, 'job-invalid')).toEqual(['rejected', 'reported']);
  });

  it('run jobs - runCommand is refused (REJECTED) unless commands are allowed', async () => {
    harness.addJob('job-cmd', { version: '1.0', steps: [{ action: { name: 'Say', type: 'runCommand', input: { command: 'echo,hello' } } }] });
    const runner = harness.start({ handlers: [deviceClientHandler({ handlerDir: harness.dir })] });
    await runner.waitFor((event) => event.kind === 'reported');
    const { status, statusDetails } = harness.status('job-cmd');
    expect(status).toBe('REJECTED');
    expect(statusDetails['reason']).toContain('runCommand is disabled');
  });

  it('run jobs - runCommand runs when allowed, with Device Client status details', async () => {
    harness.addJob('job-cmd', { version: '1.0', includeStdOut: true, steps: [{ action: { name: 'Say', type: 'runCommand', input: { command: 'echo,hello' } } }] });
    const runner = harness.start({ handlers: [deviceClientHandler({ handlerDir: harness.dir, allowCommands: true })] });
    await runner.waitFor((event) => event.kind === 'reported');
    expect(harness.status('job-cmd')).toMatchObject({ status: 'SUCCEEDED', statusDetails: { reason: 'Job exited with status: 0', stdout: 'hello⏎' } });
  });

  it('run jobs - cancel mid-run aborts the handler and sends no status for it', async () => {
    const aborted = { value: false };
    harness.addJob('job-1', {});
    const runner = harness.start({ handlers: [waitingHandler(aborted)] });
    await runner.waitFor((event) => event.kind === 'progress');
    const canceled = harness.emulator.engine.cancelJob('job-1', { force: true });
    expect(canceled.ok).toBe(true);
    await runner.waitFor((event) => event.kind === 'canceled');
    expect(aborted.value).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(harness.status('job-1').status).toBe('CANCELED');
    expect(kinds(runner.events, 'job-1')).toEqual(['started', 'progress', 'canceled']);
  });

  it('run jobs - the runner step limit fails a stuck step and aborts its handler', async () => {
    const aborted = { value: false };
    harness.addJob('job-1', {});
    const runner = harness.start({ handlers: [waitingHandler(aborted)], stepTimeoutMs: 150 });
    const failure = await runner.waitFor((event) => event.kind === 'failed');
    expect(failure).toMatchObject({ reason: 'step "waiting" exceeded the time limit of 150 ms' });
    await runner.waitFor((event) => event.kind === 'reported');
    expect(aborted.value).toBe(true);
    expect(harness.status('job-1').status).toBe('FAILED');
  });

  it('run jobs - the job time limit fails a job that runs too long', async () => {
    const catchAll: JobHandler = { name: 'slow', match: anyDocument, run: () => NEVER };
    harness.addJob('job-1', {});
    const runner = harness.start({ handlers: [catchAll], jobTimeoutMs: 120 });
    await runner.waitFor((event) => event.kind === 'reported');
    expect(harness.status('job-1')).toMatchObject({ status: 'FAILED', statusDetails: { reason: 'job exceeded the time limit of 120 ms' } });
  });

  it('run jobs - a malformed notification is an error event and the runner keeps taking jobs', async () => {
    const runner = harness.start({ handlers: [install] });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const other = await connectMqtt({ url: harness.emulator.mqttUrl, clientId: 'noise' });
    await other.publishAsync('$aws/things/thing-A/jobs/notify-next', '{"timestamp": "yesterday"');
    const problem = await runner.waitFor((event) => event.kind === 'error');
    await other.endAsync();
    expect(problem).toMatchObject({ error: { name: 'DecodeError' } });
    harness.addJob('job-1', { operation: 'install', version: '3' });
    await runner.waitFor((event) => event.kind === 'reported');
    expect(harness.status('job-1').status).toBe('SUCCEEDED');
  });

  it('run jobs - invalid options are refused at once', () => {
    expect(() => runJobs(harness.jobs, { handlers: [install, install] })).toThrow(InvalidRequestError);
    expect(() => runJobs(harness.jobs, { handlers: [], stepTimeoutInMinutes: 0 })).toThrow(/stepTimeoutInMinutes/);
    expect(() => runJobs(harness.jobs, { handlers: [], progressIntervalMs: -1 })).toThrow(/progressIntervalMs/);
    expect(() => runJobs(harness.jobs, { handlers: [], retry: { baseDelayMs: Number.NaN } })).toThrow(/retry\.baseDelayMs/);
    expect(() => runJobs(harness.jobs, { handlers: [], retry: { maxAttempts: 0 } })).toThrow(/retry\.maxAttempts/);
    expect(() => runJobs(harness.jobs, { handlers: [], statusDetails: { maxValueLength: 5 } })).toThrow(InvalidRequestError);
  });

  it('run jobs - the runner works over HTTPS, with notifications synthesised by polling', async () => {
    const { emulator } = harness;
    const client = createJobsClient({
      thingName: 'thing-A',
      transport: httpsTransport({ endpoint: emulator.dataEndpoint, region: 'us-east-1', credentials: emulator.credentials, pollIntervalMs: 50 }),
      timeoutMs: 2000,
    });
    const done = completingHandler('done');
    const runner = harness.start({ handlers: [done] }, client);
    await runner.waitFor((event) => event.kind === 'idle');
    harness.addJob('job-1', { over: 'https' });
    await runner.waitFor((event) => event.kind === 'reported' && event.jobId === 'job-1');
    expect(harness.status('job-1').status).toBe('SUCCEEDED');
  });

  it('run jobs - a reconnect makes the runner look for work it was not notified of', async () => {
    const deaf: JobsClient = { ...harness.jobs, nextJobExecutionChanged: () => NEVER };
    const reconnected = new Subject<void>();
    const runner = harness.start({ handlers: [install], reconnected }, deaf);
    await runner.waitFor((event) => event.kind === 'idle');
    harness.addJob('job-1', { operation: 'install', version: '4' });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(kinds(runner.events, 'job-1')).toEqual([]);
    reconnected.next();
    await runner.waitFor((event) => event.kind === 'reported');
    expect(harness.status('job-1').status).toBe('SUCCEEDED');
  });

  it('run jobs - a handler bug (a checkpoint that is not JSON, an invalid event) fails its job, not the runner', async () => {
    const badCheckpoint: JobHandler = { name: 'bad-checkpoint', match: (d) => (isOp(d, 'bigint') ? { ok: true, document: d } : undefined), run: () => of(checkpoint({ n: 10n })) };
    const badEvent: JobHandler = {
      name: 'bad-event',
      match: (d) => (isOp(d, 'garbage') ? { ok: true, document: d } : undefined),
      run: () => new Observable<HandlerEvent>((subscriber) => {
        subscriber.next(JSON.parse('{"kind":"explode"}'));
      }),
    };
    harness.addJob('job-bigint', { operation: 'bigint' });
    harness.addJob('job-garbage', { operation: 'garbage' });
    harness.addJob('job-fine', { operation: 'install', version: '5' });
    const runner = harness.start({ handlers: [badCheckpoint, badEvent, install] });
    await runner.waitFor((event) => event.kind === 'reported' && event.jobId === 'job-fine');
    expect(harness.status('job-bigint')).toMatchObject({ status: 'FAILED', statusDetails: { reason: expect.stringMatching(/^the handler's checkpoint is not JSON/) } });
    expect(harness.status('job-garbage')).toMatchObject({ status: 'FAILED', statusDetails: { reason: expect.stringMatching(/^the handler emitted an invalid event/) } });
    expect(harness.status('job-fine').status).toBe('SUCCEEDED');
  });

  it('run jobs - a handler that ends the job while being subscribed is unsubscribed at once', async () => {
    let ticks = 0;
    let stopped = false;
    const eager: JobHandler = {
      name: 'eager',
      match: anyDocument,
      run: () =>
        new Observable<HandlerEvent>((subscriber) => {
          subscriber.next(succeeded());
          const timer = setInterval(() => (ticks += 1), 5);
          return () => {
            stopped = true;
            clearInterval(timer);
          };
        }),
    };
    harness.emulator.faults.throttleNext(2, { operation: 'updateJobExecution' });
    harness.addJob('job-1', {});
    const runner = harness.start({ handlers: [eager] });
    await runner.waitFor((event) => event.kind === 'reported');
    expect(stopped).toBe(true);
    expect(ticks).toBe(0);
  });

  it('run jobs - progress goes on after an update whose check failed (a Describe that gave up)', async () => {
    let push: ((event: HandlerEvent) => void) | undefined;
    const remote: JobHandler = {
      name: 'remote',
      match: anyDocument,
      run: () => new Observable<HandlerEvent>((subscriber) => {
        push = (event) => subscriber.next(event);
      }),
    };
    harness.addJob('job-1', {});
    const runner = harness.start({ handlers: [remote], retry: { baseDelayMs: 10, maxDelayMs: 20, maxAttempts: 2 } });
    await runner.waitFor((event) => event.kind === 'started');
    // Another process moves the version on: our next update meets VersionMismatch, and the Describe that
    // should settle it is throttled more often than the runner will try.
    await firstValueFrom(harness.jobs.updateJobExecution({ jobId: 'job-1', status: 'IN_PROGRESS', statusDetails: { by: 'other' } }));
    harness.emulator.faults.throttleNext(5, { operation: 'describeJobExecution' });
    push?.(progress(10, { try: 'one' }));
    await runner.waitFor((event) => event.kind === 'error');
    harness.emulator.faults.clear();
    await new Promise((resolve) => setTimeout(resolve, 100));
    push?.(progress(50, { try: 'two' }));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(harness.status('job-1').statusDetails).toMatchObject({ try: 'two', progress: '50%' });
  });

  it('run jobs - canceling a Device Client job kills its step, process group and all', async () => {
    const journal = `${harness.dir}/journal.json`;
    harness.addJob('job-sleep', { version: '1.0', steps: [{ action: { name: 'Sleep', type: 'runCommand', input: { command: 'sh,-c,sleep 30 & sleep 30' } } }] });
    const runner = harness.start({ handlers: [deviceClientHandler({ handlerDir: harness.dir, allowCommands: true })], journal });
    await runner.waitFor((event) => event.kind === 'progress');
    const pgid = journaledStepGroup(journal);
    expect(groupAlive(pgid)).toBe(true);
    expect(harness.emulator.engine.cancelJob('job-sleep', { force: true }).ok).toBe(true);
    await runner.waitFor((event) => event.kind === 'canceled');
    expect(await groupGone(pgid)).toBe(true);
    expect(harness.status('job-sleep').status).toBe('CANCELED');
  });
});
