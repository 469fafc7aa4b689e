import { Observable, VirtualTimeScheduler } from 'rxjs';
import { checkpoint, type HandlerEvent, type JobHandler } from '../../src/agent/handler';
import { anyDocument, createHarness, type Harness, kinds, waitingHandler } from './runner-harness';
import { advanceBy } from '../helpers/virtual-time';

/**
 * The service's timers against the runner: the emulator runs on virtual time (minutes of job time in a
 * moment), the runner on real time. Also: an execution deleted mid-run.
 */

const minute = 60_000;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('runJobs and the service timers', () => {
  let scheduler: VirtualTimeScheduler;
  let harness: Harness;

  const advance = (ms: number): void => advanceBy(scheduler, ms);
  const stepDeadline = (jobId: string): number | undefined => {
    const found = harness.emulator.engine.describeExecution(jobId, 'thing-A');
    return found.ok ? found.value.stepDeadline : undefined;
  };

  beforeEach(async () => {
    scheduler = new VirtualTimeScheduler();
    harness = await createHarness('thing-A', 2000, { scheduler });
  });

  afterEach(async () => {
    await harness.close();
  });

  it('runner timers - the heartbeat renews the step timer while a handler is quiet', async () => {
    const aborted = { value: false };
    harness.addJob('job-1', {});
    const runner = harness.start({ handlers: [waitingHandler(aborted, 'work')], stepTimeoutInMinutes: 1, heartbeatIntervalMs: 100 });
    await runner.waitFor((event) => event.kind === 'progress');
    expect(stepDeadline('job-1')).toBe(minute);
    advance(50_000);
    await sleep(400); // heartbeats: each update restarts the step timer from virtual 50 s
    expect(stepDeadline('job-1')).toBe(50_000 + minute);
    advance(30_000); // past the first deadline
    expect(harness.status('job-1').status).toBe('IN_PROGRESS');
    expect(aborted.value).toBe(false);
  });

  it('runner timers - a step timer that expires (no heartbeat) ends the handler: canceled TIMED_OUT, no status sent', async () => {
    const aborted = { value: false };
    harness.addJob('job-1', {});
    const runner = harness.start({ handlers: [waitingHandler(aborted, 'work')], stepTimeoutInMinutes: 1, heartbeatIntervalMs: 10 * minute });
    await runner.waitFor((event) => event.kind === 'progress');
    advance(minute + 1000);
    const canceled = await runner.waitFor((event) => event.kind === 'canceled');
    expect(canceled).toMatchObject({ jobId: 'job-1', status: 'TIMED_OUT' });
    expect(aborted.value).toBe(true);
    await sleep(100);
    expect(harness.status('job-1').status).toBe('TIMED_OUT');
    expect(kinds(runner.events, 'job-1')).toEqual(['started', 'progress', 'canceled']);
  });

  it('runner timers - an execution deleted while it runs ends its handler: canceled REMOVED', async () => {
    const aborted = { value: false };
    harness.addJob('job-1', {});
    const runner = harness.start({ handlers: [waitingHandler(aborted, 'work')] });
    await runner.waitFor((event) => event.kind === 'progress');
    expect(harness.emulator.engine.deleteExecution('job-1', 'thing-A', 1, true).ok).toBe(true);
    const canceled = await runner.waitFor((event) => event.kind === 'canceled');
    expect(canceled).toMatchObject({ jobId: 'job-1', status: 'REMOVED' });
    expect(aborted.value).toBe(true);
  });

  it('runner timers - a resumed execution renews the step timer at once', async () => {
    const journal = `${harness.dir}/journal.json`;
    const resumable: JobHandler = {
      name: 'resumable',
      resumable: true,
      match: anyDocument,
      run: () => new Observable<HandlerEvent>((subscriber) => subscriber.next(checkpoint({ phase: 'rebooting' }, 'reboot'))),
    };
    harness.addJob('job-1', {});
    const first = harness.start({ handlers: [resumable], journal, stepTimeoutInMinutes: 1, heartbeatIntervalMs: 10 * minute });
    await first.waitFor((event) => event.kind === 'started');
    await sleep(50);
    first.stop(); // the device reboots; 50 s pass
    advance(50_000);
    const second = harness.start({ handlers: [resumable], journal, stepTimeoutInMinutes: 1, heartbeatIntervalMs: 10 * minute });
    await second.waitFor((event) => event.kind === 'resumed');
    await sleep(200);
    expect(stepDeadline('job-1')).toBe(50_000 + minute);
    advance(30_000);
    expect(harness.status('job-1').status).toBe('IN_PROGRESS');
  });
});
