// Found in review of stop 9: bad input from the broker or from a handler ended the runner (the docs say it
// errors only with JournalError, and that a handler bug fails that job, never the runner), and a runner ended
// that way left its execution's poll and cancel watch running.
import * as vm from 'node:vm';
import * as t from 'io-ts';
import { EMPTY, NEVER, Observable, of } from 'rxjs';
import type { RunnerEvent } from '../../src/agent/events';
import { failed, type HandlerEvent, type JobHandler } from '../../src/agent/handler';
import { memoryJournal } from '../../src/agent/journal';
import { runJobs } from '../../src/agent/run-jobs';
import { createJobsClient, type JobId } from '../../src';
import { createFakeJobsTransport } from '../../src/testing';
import type { Call } from '../../src/transport/transport';

const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const match: JobHandler['match'] = (document) => ({ ok: true, document });
const execution = (jobId: string, extra: Record<string, unknown> = {}) => ({ jobId, status: 'IN_PROGRESS', executionNumber: 1, versionNumber: 2, queuedAt: 100, jobDocument: { op: jobId }, ...extra });

/** A service whose StartNext hands out `queue` in order (then nothing), answering every update. */
const service = (queue: readonly Record<string, unknown>[], describe?: Record<string, unknown>) => {
  const left = [...queue];
  const updates: Call[] = [];
  const transport = createFakeJobsTransport({
    respond: (call) => {
      const meta = { timestamp: 1, clientToken: call.clientToken };
      if (call.operation === 'startNextPendingJobExecution') {
        const next = left[0];
        return { outcome: 'accepted', body: next === undefined ? meta : { ...meta, execution: next } };
      }
      if (call.operation === 'describeJobExecution') return { outcome: 'accepted', body: { ...meta, ...(describe === undefined ? {} : { execution: describe }) } };
      if (call.operation === 'updateJobExecution') {
        updates.push(call);
        // The execution left the queue: StartNext hands out the next one.
        if (call.jobId === left[0]?.['jobId'] && call.payload['status'] !== 'IN_PROGRESS') left.shift();
        return { outcome: 'accepted', body: meta };
      }
      return undefined;
    },
  });
  return { transport, updates };
};

const run = async (transport: ReturnType<typeof createFakeJobsTransport>, handlers: readonly JobHandler[], options: { journal?: ReturnType<typeof memoryJournal>; document?: t.Type<{ operation: string }, unknown>; pollIntervalMs?: number } = {}) => {
  const jobs = options.document === undefined ? createJobsClient({ thingName: 'thing-A', transport }) : createJobsClient({ thingName: 'thing-A', transport, jobDocument: options.document });
  const events: RunnerEvent[] = [];
  let died: unknown;
  const sub = runJobs(jobs, { handlers, journal: options.journal ?? memoryJournal(), ...(options.pollIntervalMs === undefined ? {} : { pollIntervalMs: options.pollIntervalMs }) }).subscribe({
    next: (event) => events.push(event),
    error: (error: unknown) => {
      died = error;
    },
  });
  await settle(100);
  return { events, died: () => died, stop: () => sub.unsubscribe() };
};

const statusOf = (call: Call | undefined): unknown => call?.payload['status'];
const detailsOf = (call: Call | undefined): unknown => call?.payload['statusDetails'];

describe('the runner and bad input', () => {
  it('runner - a StartNext reply whose document fails the client\'s document codec: that execution is REJECTED, the next one runs', async () => {
    const { transport, updates } = service([execution('poison', { jobDocument: { op: 'x' } }), execution('good', { jobDocument: { operation: 'noop' } })]);
    const handler: JobHandler = { name: 'noop', match, run: () => EMPTY };
    const runner = await run(transport, [handler], { document: t.type({ operation: t.string }) });
    runner.stop();
    expect(runner.died()).toBeUndefined();
    expect(updates.map((call) => `${call.jobId ?? ''}:${String(statusOf(call))}`)).toEqual(['poison:REJECTED', 'good:SUCCEEDED']);
    expect(detailsOf(updates[0])).toMatchObject({ reason: expect.stringMatching(/^this device could not decode the execution: .*jobDocument/) });
    expect(updates[0]?.payload['expectedVersion']).toBe(2);
    expect(runner.events.map((e) => e.kind)).toContain('error');
  });

  it('runner - a StartNext reply that cannot be decoded at all (no job id): an error event, and the runner goes on', async () => {
    const { transport } = service([{ status: 'WEIRD' }]);
    const runner = await run(transport, [{ name: 'h', match, run: () => NEVER }]);
    runner.stop();
    expect(runner.died()).toBeUndefined();
    expect(runner.events).toContainEqual(expect.objectContaining({ kind: 'error', error: expect.objectContaining({ name: 'DecodeError' }) }));
  });

  it('runner - a Describe reply that cannot be decoded while resuming: an error event; the journal keeps the execution', async () => {
    const { transport } = service([], execution('job-1', { status: 'WEIRD' }));
    const journal = memoryJournal();
    journal.begin({ jobId: 'job-1' as JobId, executionNumber: 1, versionNumber: 2, handler: 'h' });
    const runner = await run(transport, [{ name: 'h', resumable: true, match, run: () => NEVER }], { journal });
    runner.stop();
    expect(runner.died()).toBeUndefined();
    expect(runner.events).toContainEqual(expect.objectContaining({ kind: 'error', jobId: 'job-1', error: expect.objectContaining({ name: 'DecodeError' }) }));
    expect(journal.running?.jobId).toBe('job-1');
  });

  it.each([
    ['a checkpoint whose step is not a string', (s: { next: (e: HandlerEvent) => void }) => s.next({ kind: 'checkpoint', checkpoint: { n: 1 }, step: 3 as unknown as string })],
    ['a progress step that is not a string', (s: { next: (e: HandlerEvent) => void }) => s.next({ kind: 'progress', step: { name: 'dl' } as unknown as string })],
    ['a progress percent that is not a number', (s: { next: (e: HandlerEvent) => void }) => s.next({ kind: 'progress', percent: '50' as unknown as number })],
  ])('runner - %s fails that job with a reason, not the runner', async (_label, emit) => {
    const { transport, updates } = service([execution('job-1')]);
    const handler: JobHandler = { name: 'h', match, run: () => new Observable<HandlerEvent>((s) => emit(s)) };
    const runner = await run(transport, [handler]);
    runner.stop();
    expect(runner.died()).toBeUndefined();
    expect(updates.map(statusOf)).toEqual(['FAILED']);
    expect(detailsOf(updates[0])).toMatchObject({ reason: expect.stringContaining('handler') });
  });

  it('runner - a run() that returns no Observable (an async run) fails that job; nothing of it keeps running', async () => {
    const { transport, updates } = service([execution('job-1')]);
    const handler = { name: 'h', match, run: () => Promise.resolve(undefined) } as unknown as JobHandler;
    const runner = await run(transport, [handler], { pollIntervalMs: 20 });
    expect(runner.died()).toBeUndefined();
    expect(updates.map(statusOf)).toEqual(['FAILED']);
    expect(detailsOf(updates[0])).toMatchObject({ reason: expect.stringContaining('did not return an Observable') });
    runner.stop();
    const describes = transport.calls.filter((call) => call.operation === 'describeJobExecution').length;
    await settle(200);
    expect(transport.calls.filter((call) => call.operation === 'describeJobExecution')).toHaveLength(describes);
  });

  it('runner - a handler\'s outcome left in the outbox is not delivered to the same job id created again', async () => {
    const journal = memoryJournal();
    const handler: JobHandler = { name: 'h', match, run: () => EMPTY };
    // Run 1: the job succeeds, but its SUCCEEDED is given up (throttled, maxAttempts 1) and stays in the outbox.
    const first = createFakeJobsTransport({
      respond: (call) => {
        const meta = { timestamp: 1, clientToken: call.clientToken };
        if (call.operation === 'startNextPendingJobExecution') return { outcome: 'accepted', body: first.calls.length > 1 ? meta : { ...meta, execution: execution('job-1') } };
        if (call.operation === 'updateJobExecution') return { outcome: 'rejected', body: { ...meta, code: 'RequestThrottled', message: 'slow down' } };
        return undefined;
      },
    });
    const one = runJobs(createJobsClient({ thingName: 'thing-A', transport: first }), { handlers: [handler], journal, retry: { maxAttempts: 1 } }).subscribe();
    await settle(50);
    one.unsubscribe();
    expect(journal.outbox.map((entry) => [entry.status, entry.queuedAt?.getTime()])).toEqual([['SUCCEEDED', 100_000]]);
    // Run 2: job-1#1 was deleted and created again, queued at another time; it must not get the old outcome.
    const { transport: second, updates } = service([], execution('job-1', { queuedAt: 5000 }));
    const runner = await run(second, [handler], { journal });
    runner.stop();
    expect(updates).toEqual([]);
    expect(runner.events).toContainEqual(expect.objectContaining({ kind: 'error', error: expect.objectContaining({ message: expect.stringContaining('created again') }) }));
  });

  it('runner - an outcome whose reply cannot be decoded stays owed, and is delivered with its details', async () => {
    let status = 'QUEUED';
    let version = 1;
    let garbled = 1;
    const current = () => execution('job-1', { status, versionNumber: version });
    const transport = createFakeJobsTransport({
      respond: (call) => {
        const meta = { timestamp: 1, clientToken: call.clientToken };
        if (call.operation === 'startNextPendingJobExecution') {
          if (status === 'QUEUED') [status, version] = ['IN_PROGRESS', 2];
          return { outcome: 'accepted', body: status === 'IN_PROGRESS' ? { ...meta, execution: current() } : meta };
        }
        if (call.operation === 'describeJobExecution') return { outcome: 'accepted', body: { ...meta, execution: current() } };
        if (call.operation === 'updateJobExecution') {
          // The first reply is a rejection without its code: nothing says whether the update was applied.
          if (garbled-- > 0) return { outcome: 'rejected', body: { ...meta, message: 'Rate exceeded' } };
          [status, version] = [String(call.payload['status']), version + 1];
          return { outcome: 'accepted', body: { ...meta, executionState: { status, versionNumber: version } } };
        }
        return undefined;
      },
    });
    const handler: JobHandler = { name: 'h', match, run: () => of(failed('disk full', { detail: 'sda1 at 100%' })) };
    const runner = await run(transport, [handler], { pollIntervalMs: 150 });
    await settle(300);
    runner.stop();
    expect(runner.died()).toBeUndefined();
    const sent = transport.calls.filter((call) => call.operation === 'updateJobExecution').map((call) => call.payload['statusDetails']);
    expect(sent.at(-1)).toEqual({ reason: 'disk full', detail: 'sda1 at 100%' });
    expect(status).toBe('FAILED');
  });

  // Found in review of the fixes above: the Promise an `async run` returned was never handled, so when it
  // rejected the process died of an unhandled rejection.
  it('runner - an async run() that throws fails its job and leaves no unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const { transport, updates } = service([execution('job-1')]);
      const handler = { name: 'h', match, run: () => Promise.reject(new Error('handler bug')) } as unknown as JobHandler;
      const runner = await run(transport, [handler]);
      runner.stop();
      await settle(50);
      expect(runner.died()).toBeUndefined();
      expect(updates.map(statusOf)).toEqual(['FAILED']);
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  // Found in review of the fixes above: each wake-up rejected the undecodable execution again, adding an
  // outbox entry each time while the first was still owed.
  it('runner - an undecodable execution whose REJECTED is still owed is not rejected again at each wake-up', async () => {
    const poison = execution('job-1', { jobDocument: { op: 'x' } });
    const transport = createFakeJobsTransport({
      respond: (call) => {
        const meta = { timestamp: 1, clientToken: call.clientToken };
        // The update's reply cannot be read (a rejection without its code): the REJECTED stays owed.
        if (call.operation === 'updateJobExecution') return { outcome: 'rejected', body: { ...meta, message: 'Rate exceeded' } };
        if (call.operation === 'describeJobExecution') return { outcome: 'accepted', body: { ...meta, execution: { ...poison, jobDocument: undefined } } };
        return { outcome: 'accepted', body: { ...meta, execution: poison } };
      },
    });
    const journal = memoryJournal();
    const runner = await run(transport, [{ name: 'h', match, run: () => EMPTY }], { journal, document: t.type({ operation: t.string }), pollIntervalMs: 50 });
    await settle(300);
    runner.stop();
    expect(runner.died()).toBeUndefined();
    expect(journal.outbox.map((entry) => `${entry.jobId}:${entry.status}`)).toEqual(['job-1:REJECTED']);
  });

  // Found in review of the fixes above: the stricter event check failed jobs that sent null for an optional
  // field (from JavaScript), which the runner took as absent before.
  it.each([
    ['done with details null', { kind: 'done', status: 'SUCCEEDED', details: null }],
    ['progress with percent, step and details null', { kind: 'progress', percent: null, step: null, details: null }],
    ['checkpoint with step null', { kind: 'checkpoint', checkpoint: 1, step: null }],
  ])('runner - an event with %s counts them as absent', async (_label, event) => {
    const { transport, updates } = service([execution('job-1')]);
    const handler = { name: 'h', match, run: () => of(event) } as unknown as JobHandler;
    const runner = await run(transport, [handler]);
    runner.stop();
    expect(runner.died()).toBeUndefined();
    expect(updates.map(statusOf).at(-1)).toBe('SUCCEEDED');
  });

  // Found in review: a job failed for an async run() was never aborted, so that handler kept working beside
  // the next job; and a Promise of another realm (a vm context) was not recognised, its rejection unhandled.
  it.each([
    ['this realm', (work: () => Promise<void>) => work()],
    ['another realm', (work: () => Promise<void>) => vm.runInNewContext('Promise.resolve().then(work)', { work }) as unknown],
  ])('runner - an async run() (a Promise of %s): its signal is aborted, its rejection handled', async (_label, wrap) => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const signals: AbortSignal[] = [];
      const { transport, updates } = service([execution('job-1'), execution('job-2')]);
      const handler = {
        name: 'h',
        match,
        run: ({ signal }: { signal: AbortSignal }) =>
          wrap(async () => {
            signals.push(signal);
            await settle(20);
            throw new Error('handler bug');
          }),
      } as unknown as JobHandler;
      const runner = await run(transport, [handler]);
      runner.stop();
      await settle(50);
      expect(runner.died()).toBeUndefined();
      expect(updates.map((call) => `${call.jobId ?? ''}:${String(statusOf(call))}`)).toEqual(['job-1:FAILED', 'job-2:FAILED']);
      expect(signals.map((signal) => signal.aborted)).toEqual([true, true]);
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  // Found in review: the clean-up of the journal's running execution, rejected because its reply cannot be
  // decoded, was run but what it said was lost (resuming reports it as `cleanup`).
  it('runner - an undecodable execution that was running here is REJECTED with its clean-up\'s result', async () => {
    const poison = execution('job-1', { jobDocument: { op: 'x' } });
    const { transport, updates } = service([poison], poison);
    const journal = memoryJournal();
    journal.begin({ jobId: 'job-1' as JobId, executionNumber: 1, versionNumber: 2, handler: 'h' });
    const handler: JobHandler = {
      name: 'h',
      resumable: true,
      match,
      run: () => NEVER,
      interrupted: () => {
        throw new Error('EPERM killing process group 4242');
      },
    };
    const runner = await run(transport, [handler], { journal, document: t.type({ operation: t.string }) });
    runner.stop();
    expect(updates.map(statusOf)).toEqual(['REJECTED']);
    expect(detailsOf(updates[0])).toMatchObject({ cleanup: expect.stringContaining('EPERM killing process group 4242') });
  });
});
