import * as t from 'io-ts';
import { firstValueFrom, type Observable } from 'rxjs';
import { createJobsClient, DecodeError, InvalidRequestError, RejectedError, type JobsClient, type JobsTransport } from '../../src';
import { startEmulator, type Emulator } from '../../src/emulator';

/** A transport on a running emulator, as a contract run needs it. */
export interface TransportUnderTest {
  readonly transport: JobsTransport;
  /** Longest time a change of the service takes to show on the event streams (a notification, or a poll). */
  readonly settleMs: number;
  readonly close: () => Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const errorOf = (promise: Promise<unknown>): Promise<unknown> => promise.then(() => undefined, (error: unknown) => error);

/** Collects what `source$` emits, mapped by `show`, until `stop()`. */
const collect = <E>(source$: Observable<E>, show: (event: E) => string) => {
  const values: string[] = [];
  const subscription = source$.subscribe((event) => values.push(show(event)));
  return { values, stop: () => subscription.unsubscribe() };
};

const Doc = t.type({ op: t.string }, 'Doc');

/**
 * The behaviour every {@link JobsTransport} must have, seen through `createJobsClient` on the emulator: the
 * same domain values, the same rejections, the same event streams, whichever transport carries them
 * (mqtt.js `abstract_store.ts` style: `make` builds the transport under test).
 */
export const jobsTransportContract = (name: string, make: (emulator: Emulator) => Promise<TransportUnderTest>): void => {
  describe(`JobsTransport contract: ${name}`, () => {
    let emu: Emulator;
    let under: TransportUnderTest;
    let jobs: JobsClient<t.TypeOf<typeof Doc>>;

    beforeEach(async () => {
      emu = await startEmulator();
      under = await make(emu);
      jobs = createJobsClient({ thingName: 'thing-A', transport: under.transport, timeoutMs: 3000, jobDocument: Doc });
    });
    afterEach(async () => {
      await under.close();
      await emu.close();
    });

    const createJob = (jobId: string, document: object = { op: jobId }) => {
      const result = emu.engine.createJob({ jobId, targets: ['arn:aws:iot:us-east-1:123456789012:thing/thing-A'], document: JSON.stringify(document) });
      if (!result.ok) throw new Error(result.message);
    };

    it(`${name} - the four operations give Dates, parsed and typed documents, absent fields absent`, async () => {
      createJob('job-1', { op: 'install' });
      const pending = await firstValueFrom(jobs.getPendingJobExecutions());
      expect(pending).toMatchObject({ inProgressJobs: [], queuedJobs: [{ jobId: 'job-1', versionNumber: 1, executionNumber: 1 }] });
      expect(pending.queuedJobs[0]?.queuedAt).toBeInstanceOf(Date);
      const { execution } = await firstValueFrom(jobs.startNextPendingJobExecution({ statusDetails: { step: '1' }, stepTimeoutInMinutes: 5 }));
      expect(execution).toMatchObject({ jobId: 'job-1', status: 'IN_PROGRESS', statusDetails: { step: '1' }, versionNumber: 2, jobDocument: { op: 'install' } });
      expect(execution?.startedAt).toBeInstanceOf(Date);
      const described = await firstValueFrom(jobs.describeJobExecution({ jobId: 'job-1', includeJobDocument: false }));
      expect(described.execution).toMatchObject({ jobId: 'job-1', status: 'IN_PROGRESS' });
      expect(described.execution).not.toHaveProperty('jobDocument');
      expect((await firstValueFrom(jobs.describeJobExecution({ jobId: '$next' }))).execution?.jobDocument).toEqual({ op: 'install' });
      const plain = await firstValueFrom(jobs.updateJobExecution({ jobId: 'job-1', status: 'IN_PROGRESS', statusDetails: { step: '2' }, includeJobExecutionState: false }));
      expect(plain).not.toHaveProperty('executionState');
      const done = await firstValueFrom(jobs.updateJobExecution({ jobId: 'job-1', status: 'SUCCEEDED', expectedVersion: 3, includeJobExecutionState: true, includeJobDocument: true }));
      expect(done).toMatchObject({ executionState: { status: 'SUCCEEDED', statusDetails: { step: '2' }, versionNumber: 4 }, jobDocument: { op: 'install' } });
    });

    it(`${name} - with nothing pending: empty lists, and no execution from StartNext or Describe($next)`, async () => {
      await expect(firstValueFrom(jobs.getPendingJobExecutions())).resolves.toMatchObject({ inProgressJobs: [], queuedJobs: [] });
      expect(await firstValueFrom(jobs.startNextPendingJobExecution())).not.toHaveProperty('execution');
      expect(await firstValueFrom(jobs.describeJobExecution({ jobId: '$next' }))).not.toHaveProperty('execution');
    });

    it(`${name} - concurrent requests each get their own reply`, async () => {
      const ids = Array.from({ length: 8 }, (_, i) => `job-${i}`);
      ids.forEach((id) => createJob(id));
      const replies = await Promise.all(ids.map((jobId) => firstValueFrom(jobs.describeJobExecution({ jobId }))));
      expect(replies.map((r) => r.execution?.jobDocument?.op)).toEqual(ids);
    });

    it(`${name} - an unknown job is RejectedError ResourceNotFound with the request's clientToken`, async () => {
      const error = await errorOf(firstValueFrom(jobs.describeJobExecution({ jobId: 'missing' })));
      expect(error).toBeInstanceOf(RejectedError);
      expect(error).toMatchObject({ code: 'ResourceNotFound', operation: 'describeJobExecution', clientToken: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/) });
    });

    it(`${name} - a stale expectedVersion is rejected with the execution's state`, async () => {
      createJob('job-1');
      const error = await errorOf(firstValueFrom(jobs.updateJobExecution({ jobId: 'job-1', status: 'IN_PROGRESS', expectedVersion: 9 })));
      expect(error).toBeInstanceOf(RejectedError);
      // MQTT says VersionMismatch; HTTPS has no such exception and answers 409 InvalidStateTransitionException.
      expect(error).toMatchObject({ code: expect.stringMatching(/^(VersionMismatch|InvalidStateTransition)$/), executionState: { status: 'QUEUED', versionNumber: 1 } });
    });

    it(`${name} - leaving a terminal status is RejectedError InvalidStateTransition`, async () => {
      createJob('job-1');
      await firstValueFrom(jobs.updateJobExecution({ jobId: 'job-1', status: 'FAILED' }));
      const error = await errorOf(firstValueFrom(jobs.updateJobExecution({ jobId: 'job-1', status: 'IN_PROGRESS' })));
      expect(error).toMatchObject({ name: 'RejectedError', code: 'InvalidStateTransition' });
    });

    it(`${name} - a document that fails the caller's codec is a DecodeError; a bad request an InvalidRequestError`, async () => {
      createJob('job-1', { op: 42 });
      await expect(firstValueFrom(jobs.describeJobExecution({ jobId: 'job-1' }))).rejects.toBeInstanceOf(DecodeError);
      await expect(firstValueFrom(jobs.describeJobExecution({ jobId: 'no/slashes' }))).rejects.toBeInstanceOf(InvalidRequestError);
    });

    it(`${name} - both event streams report the changes MQTT notifies, with the same shapes`, async () => {
      const next = collect(jobs.nextJobExecutionChanged(), (e) => (e.execution === undefined ? 'none' : `${e.execution.jobId} ${e.execution.jobDocument?.op ?? '?'}`));
      const changed = collect(jobs.jobExecutionsChanged(), (e) => `${e.jobs.IN_PROGRESS?.map((j) => j.jobId).join(',') ?? ''}|${e.jobs.QUEUED?.map((j) => j.jobId).join(',') ?? ''}`);
      await firstValueFrom(jobs.getPendingJobExecutions());
      await sleep(under.settleMs);
      createJob('job-1', { op: 'install' });
      await sleep(under.settleMs);
      await firstValueFrom(jobs.startNextPendingJobExecution()); // QUEUED -> IN_PROGRESS: no event
      await sleep(under.settleMs);
      createJob('job-2', { op: 'reboot' });
      await sleep(under.settleMs);
      await firstValueFrom(jobs.updateJobExecution({ jobId: 'job-1', status: 'SUCCEEDED' }));
      await sleep(under.settleMs);
      await firstValueFrom(jobs.updateJobExecution({ jobId: 'job-2', status: 'REJECTED' }));
      await sleep(under.settleMs);
      next.stop();
      changed.stop();
      expect(next.values).toEqual(['job-1 install', 'job-2 reboot', 'none']);
      expect(changed.values).toEqual(['|job-1', 'job-1|job-2', '|job-2', '|']);
    });
  });
};
