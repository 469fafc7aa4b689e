import http from 'node:http';
import {
  CancelJobCommand,
  CancelJobExecutionCommand,
  CreateJobCommand,
  DeleteJobCommand,
  DeleteJobExecutionCommand,
  DescribeJobCommand,
  DescribeJobExecutionCommand,
  GetJobDocumentCommand,
  InternalFailureException,
  InvalidRequestException,
  InvalidStateTransitionException,
  IoTClient,
  ListJobExecutionsForJobCommand,
  ListJobExecutionsForThingCommand,
  ListJobsCommand,
  type ListJobsCommandInput,
  ResourceAlreadyExistsException,
  ResourceNotFoundException,
  VersionConflictException,
} from '@aws-sdk/client-iot';
import { createEngine, type Engine } from '../../src/emulator/engine/engine';
import { controlPlaneHandler } from '../../src/emulator/http/control-plane';
import { job } from '../helpers/names';

// Targets in another account and region than the emulator's own (123456789012, us-east-1).
const arn = (thing: string) => `arn:aws:iot:ap-southeast-2:999988887777:thing/${thing}`;
const document = JSON.stringify({ operation: 'reboot', delaySeconds: 5 });

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

/** Starts a control plane on an ephemeral loopback port and an SDK client for it; afterEach closes both. */
const start = async (options: { engine?: (engine: Engine) => Engine; now?: () => number } = {}) => {
  const engine = createEngine({ now: () => Date.now(), emit: () => undefined });
  const server = http.createServer(controlPlaneHandler({ engine: options.engine?.(engine) ?? engine, now: options.now ?? (() => Date.now()) }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const endpoint = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
  const client = new IoTClient({ endpoint, region: 'eu-west-1', credentials: { accessKeyId: 'AKID', secretAccessKey: 'secret' }, maxAttempts: 1 });
  closers.push(async () => {
    client.destroy();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const createJob = (jobId: string, extra: Partial<ConstructorParameters<typeof CreateJobCommand>[0]> = {}) =>
    client.send(new CreateJobCommand({ jobId, targets: [arn('thing-A'), arn('thing-B')], document, ...extra }));
  return { engine, client, endpoint, createJob };
};

/** The error a promise rejects with (fails the test if it resolves). */
const failure = (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (error: unknown) => error,
  );

const zeroCounts = {
  numberOfQueuedThings: 0,
  numberOfInProgressThings: 0,
  numberOfSucceededThings: 0,
  numberOfFailedThings: 0,
  numberOfCanceledThings: 0,
  numberOfRejectedThings: 0,
  numberOfTimedOutThings: 0,
  numberOfRemovedThings: 0,
};

describe('emulator control plane', () => {
  it('control plane - CreateJob queues one execution per target thing; DescribeJob and GetJobDocument return the job', async () => {
    const { engine, client, createJob } = await start();
    const created = await createJob('job-1', {
      description: 'reboot the fleet',
      timeoutConfig: { inProgressTimeoutInMinutes: 30 },
      jobExecutionsRetryConfig: { criteriaList: [{ failureType: 'TIMED_OUT', numberOfRetries: 2 }] },
    });
    expect(created).toMatchObject({ jobId: 'job-1', jobArn: 'arn:aws:iot:us-east-1:123456789012:job/job-1', description: 'reboot the fleet' });

    const { job: described } = await client.send(new DescribeJobCommand({ jobId: 'job-1' }));
    expect(described).toMatchObject({
      jobId: 'job-1',
      status: 'IN_PROGRESS',
      targetSelection: 'SNAPSHOT',
      targets: [arn('thing-A'), arn('thing-B')],
      timeoutConfig: { inProgressTimeoutInMinutes: 30 },
      jobExecutionsRetryConfig: { criteriaList: [{ failureType: 'TIMED_OUT', numberOfRetries: 2 }] },
      jobProcessDetails: { ...zeroCounts, numberOfQueuedThings: 2 },
    });
    // Epoch seconds with a millisecond fraction: the SDK's Date is the engine's instant to the millisecond.
    const record = engine.describeJob('job-1');
    expect(described?.createdAt).toBeInstanceOf(Date);
    expect(described?.createdAt?.getTime()).toBe(record.ok ? record.value.createdAt : Number.NaN);
    expect(described?.completedAt).toBeUndefined();
    expect(await client.send(new GetJobDocumentCommand({ jobId: 'job-1' }))).toMatchObject({ document });
  });

  it('control plane - ListJobs filters by status and targetSelection and pages with nextToken', async () => {
    const { client, createJob } = await start();
    await createJob('job-1');
    await createJob('job-2', { targetSelection: 'CONTINUOUS' });
    await createJob('job-3');
    await client.send(new CancelJobCommand({ jobId: 'job-2' }));
    const ids = async (input: ListJobsCommandInput) =>
      (await client.send(new ListJobsCommand(input))).jobs?.map((j) => `${j.jobId ?? '?'}:${j.status ?? '?'}`);
    expect(await ids({})).toEqual(['job-1:IN_PROGRESS', 'job-2:CANCELED', 'job-3:IN_PROGRESS']);
    expect(await ids({ status: 'IN_PROGRESS' })).toEqual(['job-1:IN_PROGRESS', 'job-3:IN_PROGRESS']);
    expect(await ids({ targetSelection: 'CONTINUOUS' })).toEqual(['job-2:CANCELED']);
    const first = await client.send(new ListJobsCommand({ maxResults: 2 }));
    expect(first.jobs?.map((j) => j.jobId)).toEqual(['job-1', 'job-2']);
    expect(first.jobs?.[0]?.lastUpdatedAt).toBeInstanceOf(Date);
    const second = await client.send(new ListJobsCommand({ maxResults: 2, ...(first.nextToken === undefined ? {} : { nextToken: first.nextToken }) }));
    expect(second).toMatchObject({ jobs: [{ jobId: 'job-3' }] });
    expect(second.nextToken).toBeUndefined();
  });

  it('control plane - ListJobExecutionsForJob and ForThing list executions with thing ARNs and status filters', async () => {
    const { engine, client, createJob } = await start();
    await createJob('job-1');
    await createJob('job-2', { targets: [arn('thing-A')] });
    engine.startNextPendingJobExecution('thing-A', {});
    const forJob = await client.send(new ListJobExecutionsForJobCommand({ jobId: 'job-1' }));
    expect(forJob.executionSummaries).toEqual([
      { thingArn: arn('thing-A'), jobExecutionSummary: expect.objectContaining({ status: 'IN_PROGRESS', executionNumber: 1, retryAttempt: 0, startedAt: expect.any(Date) }) },
      { thingArn: arn('thing-B'), jobExecutionSummary: expect.objectContaining({ status: 'QUEUED', executionNumber: 1, queuedAt: expect.any(Date) }) },
    ]);
    const queued = await client.send(new ListJobExecutionsForJobCommand({ jobId: 'job-1', status: 'QUEUED' }));
    expect(queued.executionSummaries?.map((s) => s.thingArn)).toEqual([arn('thing-B')]);
    const forThing = await client.send(new ListJobExecutionsForThingCommand({ thingName: 'thing-A' }));
    expect(forThing.executionSummaries?.map((s) => `${s.jobId ?? '?'}:${s.jobExecutionSummary?.status ?? '?'}`)).toEqual(['job-1:IN_PROGRESS', 'job-2:QUEUED']);
    const filtered = await client.send(new ListJobExecutionsForThingCommand({ thingName: 'thing-A', jobId: 'job-2' }));
    expect(filtered.executionSummaries?.map((s) => s.jobId)).toEqual(['job-2']);
    expect(await client.send(new ListJobExecutionsForThingCommand({ thingName: 'thing-Z' }))).toMatchObject({ executionSummaries: [] });
    expect(await failure(client.send(new ListJobExecutionsForJobCommand({ jobId: 'nope' })))).toBeInstanceOf(ResourceNotFoundException);
  });

  it('control plane - DescribeJobExecution returns thingArn, detailsMap, versionNumber and the timer estimate', async () => {
    const { engine, client, createJob } = await start();
    await createJob('job-1', { timeoutConfig: { inProgressTimeoutInMinutes: 30 } });
    engine.startNextPendingJobExecution('thing-A', { statusDetails: { step: 'download' }, stepTimeoutInMinutes: 10 });
    const { execution } = await client.send(new DescribeJobExecutionCommand({ jobId: 'job-1', thingName: 'thing-A' }));
    expect(execution).toMatchObject({
      jobId: 'job-1',
      status: 'IN_PROGRESS',
      thingArn: arn('thing-A'),
      statusDetails: { detailsMap: { step: 'download' } },
      executionNumber: 1,
      versionNumber: 2,
      startedAt: expect.any(Date),
    });
    expect(execution?.approximateSecondsBeforeTimedOut).toBeGreaterThan(590);
    expect(execution?.approximateSecondsBeforeTimedOut).toBeLessThanOrEqual(600);
    const queued = await client.send(new DescribeJobExecutionCommand({ jobId: 'job-1', thingName: 'thing-B', executionNumber: 1 }));
    expect(queued.execution).toMatchObject({ status: 'QUEUED', versionNumber: 1 });
    expect(queued.execution?.approximateSecondsBeforeTimedOut).toBeUndefined();
    expect(queued.execution?.statusDetails).toBeUndefined();
    const missing = await failure(client.send(new DescribeJobExecutionCommand({ jobId: 'job-1', thingName: 'thing-A', executionNumber: 7 })));
    expect(missing).toBeInstanceOf(ResourceNotFoundException);
  });

  it('control plane - CancelJobExecution cancels QUEUED, needs force for IN_PROGRESS and checks expectedVersion', async () => {
    const { engine, client, createJob } = await start();
    await createJob('job-1');
    engine.startNextPendingJobExecution('thing-A', {});
    await client.send(new CancelJobExecutionCommand({ jobId: 'job-1', thingName: 'thing-B', statusDetails: { why: 'operator' } }));
    const b = await client.send(new DescribeJobExecutionCommand({ jobId: 'job-1', thingName: 'thing-B' }));
    expect(b.execution).toMatchObject({ status: 'CANCELED', statusDetails: { detailsMap: { why: 'operator' } } });

    const unforced = await failure(client.send(new CancelJobExecutionCommand({ jobId: 'job-1', thingName: 'thing-A' })));
    expect(unforced).toBeInstanceOf(InvalidStateTransitionException);
    expect(unforced).toMatchObject({ $metadata: { httpStatusCode: 409 } });
    const stale = await failure(client.send(new CancelJobExecutionCommand({ jobId: 'job-1', thingName: 'thing-A', force: true, expectedVersion: 1 })));
    expect(stale).toBeInstanceOf(VersionConflictException);
    await client.send(new CancelJobExecutionCommand({ jobId: 'job-1', thingName: 'thing-A', force: true, expectedVersion: 2 }));
    const a = await client.send(new DescribeJobExecutionCommand({ jobId: 'job-1', thingName: 'thing-A' }));
    expect(a.execution).toMatchObject({ status: 'CANCELED', forceCanceled: true });
    // Every execution is now terminal, so the job is complete.
    const { job: described } = await client.send(new DescribeJobCommand({ jobId: 'job-1' }));
    expect(described).toMatchObject({ status: 'COMPLETED', jobProcessDetails: { ...zeroCounts, numberOfCanceledThings: 2 } });
  });

  it('control plane - CancelJob cancels QUEUED executions, IN_PROGRESS ones only with force', async () => {
    const { engine, client, createJob } = await start();
    await createJob('job-1');
    await createJob('job-2');
    engine.startNextPendingJobExecution('thing-A', {}); // job-1 on thing-A
    engine.startNextPendingJobExecution('thing-B', {}); // job-1 on thing-B
    expect(await client.send(new CancelJobCommand({ jobId: 'job-1', reasonCode: 'BAD_BUILD', comment: 'stop it' }))).toMatchObject({ jobId: 'job-1' });
    const unforced = await client.send(new DescribeJobCommand({ jobId: 'job-1' }));
    expect(unforced.job).toMatchObject({ status: 'CANCELED', reasonCode: 'BAD_BUILD', comment: 'stop it', jobProcessDetails: { numberOfInProgressThings: 2 } });
    expect(unforced.job?.forceCanceled).toBeUndefined();

    engine.updateJobExecution('thing-A', { jobId: job('job-1'), status: 'SUCCEEDED' });
    engine.startNextPendingJobExecution('thing-A', {}); // job-2 on thing-A
    await client.send(new CancelJobCommand({ jobId: 'job-2', force: true }));
    const forced = await client.send(new DescribeJobCommand({ jobId: 'job-2' }));
    expect(forced.job).toMatchObject({ status: 'CANCELED', forceCanceled: true, jobProcessDetails: { ...zeroCounts, numberOfCanceledThings: 2 } });
    const a = await client.send(new DescribeJobExecutionCommand({ jobId: 'job-2', thingName: 'thing-A' }));
    expect(a.execution).toMatchObject({ status: 'CANCELED', forceCanceled: true });
  });

  it('control plane - a job is COMPLETED once every execution is terminal', async () => {
    const { engine, client, createJob } = await start();
    await createJob('job-1');
    engine.startNextPendingJobExecution('thing-A', {});
    engine.updateJobExecution('thing-A', { jobId: job('job-1'), status: 'SUCCEEDED' });
    expect((await client.send(new DescribeJobCommand({ jobId: 'job-1' }))).job).toMatchObject({ status: 'IN_PROGRESS' });
    engine.updateJobExecution('thing-B', { jobId: job('job-1'), status: 'FAILED' });
    const { job: described } = await client.send(new DescribeJobCommand({ jobId: 'job-1' }));
    expect(described).toMatchObject({
      status: 'COMPLETED',
      completedAt: expect.any(Date),
      jobProcessDetails: { ...zeroCounts, numberOfSucceededThings: 1, numberOfFailedThings: 1 },
    });
    expect((await client.send(new ListJobsCommand({ status: 'COMPLETED' }))).jobs?.map((j) => j.jobId)).toEqual(['job-1']);
    const cancel = await failure(client.send(new CancelJobCommand({ jobId: 'job-1' })));
    expect(cancel).toBeInstanceOf(InvalidStateTransitionException);
    expect(cancel).toMatchObject({ $metadata: { httpStatusCode: 409 } });
  });

  it('control plane - DeleteJobExecution and DeleteJob refuse unfinished work unless forced', async () => {
    const { engine, client, createJob } = await start();
    await createJob('job-1');
    engine.startNextPendingJobExecution('thing-A', {});
    const remove = (thingName: string, force?: boolean) =>
      client.send(new DeleteJobExecutionCommand({ jobId: 'job-1', thingName, executionNumber: 1, ...(force === undefined ? {} : { force }) }));
    expect(await failure(remove('thing-A'))).toBeInstanceOf(InvalidStateTransitionException);
    engine.updateJobExecution('thing-B', { jobId: job('job-1'), status: 'REJECTED' });
    await remove('thing-B');
    expect(await failure(client.send(new DescribeJobExecutionCommand({ jobId: 'job-1', thingName: 'thing-B' })))).toBeInstanceOf(ResourceNotFoundException);
    expect(await failure(remove('thing-B'))).toBeInstanceOf(ResourceNotFoundException);

    expect(await failure(client.send(new DeleteJobCommand({ jobId: 'job-1' })))).toBeInstanceOf(InvalidStateTransitionException);
    await client.send(new DeleteJobCommand({ jobId: 'job-1', force: true }));
    expect(await failure(client.send(new DescribeJobCommand({ jobId: 'job-1' })))).toBeInstanceOf(ResourceNotFoundException);
    expect(await client.send(new ListJobExecutionsForThingCommand({ thingName: 'thing-A' }))).toMatchObject({ executionSummaries: [] });
    expect(await failure(client.send(new DeleteJobCommand({ jobId: 'job-1' })))).toBeInstanceOf(ResourceNotFoundException);
  });

  // DeleteJob without force: only a job in a terminal state (COMPLETED or CANCELED), as the SDK's docs say.
  it('control plane - DeleteJob without force refuses an IN_PROGRESS job even when no execution has started', async () => {
    const { client, createJob } = await start();
    await createJob('job-1');
    expect(await failure(client.send(new DeleteJobCommand({ jobId: 'job-1' })))).toBeInstanceOf(InvalidStateTransitionException);
  });

  it('control plane - DeleteJob without force deletes a CANCELED job whose executions are still IN_PROGRESS', async () => {
    const { engine, client, createJob } = await start();
    await createJob('job-1');
    engine.startNextPendingJobExecution('thing-A', {});
    await client.send(new CancelJobCommand({ jobId: 'job-1' }));
    await client.send(new DeleteJobCommand({ jobId: 'job-1' }));
    expect(await failure(client.send(new DescribeJobCommand({ jobId: 'job-1' })))).toBeInstanceOf(ResourceNotFoundException);
  });

  // Engine: deleteExecution never re-checks completion, so a SNAPSHOT job left with only terminal executions stays
  // IN_PROGRESS for ever (AWS's exact outcome is unconfirmed; COMPLETED is what the engine does for every other path).
  it('control plane - a job whose last unfinished execution is force-deleted is COMPLETED', async () => {
    const { engine, client, createJob } = await start();
    await createJob('job-1');
    engine.updateJobExecution('thing-B', { jobId: job('job-1'), status: 'SUCCEEDED' });
    engine.startNextPendingJobExecution('thing-A', {});
    await client.send(new DeleteJobExecutionCommand({ jobId: 'job-1', thingName: 'thing-A', executionNumber: 1, force: true }));
    expect((await client.send(new DescribeJobCommand({ jobId: 'job-1' }))).job).toMatchObject({ status: 'COMPLETED' });
  });

  it('control plane - errors surface as the SDK exception classes with their status', async () => {
    const { client, createJob } = await start();
    await createJob('job-1');
    expect(await failure(createJob('job-1'))).toMatchObject({ name: 'ResourceAlreadyExistsException', $metadata: { httpStatusCode: 409 } });
    expect(await failure(createJob('job-1'))).toBeInstanceOf(ResourceAlreadyExistsException);
    const missing = await failure(client.send(new DescribeJobCommand({ jobId: 'nope' })));
    expect(missing).toBeInstanceOf(ResourceNotFoundException);
    expect(missing).toMatchObject({ message: 'Job nope does not exist', $metadata: { httpStatusCode: 404 } });
    const group = await failure(createJob('job-2', { targets: ['arn:aws:iot:eu-west-1:999988887777:thinggroup/fleet'] }));
    expect(group).toBeInstanceOf(InvalidRequestException);
    expect(group).toMatchObject({ $metadata: { httpStatusCode: 400 }, message: expect.stringContaining('thinggroup/fleet') });
    const s3 = await failure(createJob('job-3', { document: undefined, documentSource: 'https://s3.amazonaws.com/bucket/doc.json' }));
    expect(s3).toMatchObject({ name: 'InvalidRequestException', message: expect.stringContaining('documentSource: is not emulated') });
    const notJson = await failure(createJob('job-4', { document: '{not json' }));
    expect(notJson).toMatchObject({ name: 'InvalidRequestException', message: expect.stringContaining('document: not JSON') });
    const timeout = await failure(createJob('job-5', { timeoutConfig: { inProgressTimeoutInMinutes: 0 } }));
    expect(timeout).toMatchObject({ name: 'InvalidRequestException', message: expect.stringContaining('inProgressTimeoutInMinutes') });
    expect(await failure(client.send(new ListJobsCommand({ maxResults: 0 })))).toBeInstanceOf(InvalidRequestException);
    // Nothing was created by the refused calls.
    expect((await client.send(new ListJobsCommand({}))).jobs?.map((j) => j.jobId)).toEqual(['job-1']);
  });

  it('control plane - an engine crash is a 500 InternalFailureException', async () => {
    const { client } = await start({
      engine: (engine) => ({
        ...engine,
        listJobs: () => {
          throw new Error('boom');
        },
      }),
    });
    const crash = await failure(client.send(new ListJobsCommand({})));
    expect(crash).toBeInstanceOf(InternalFailureException);
    expect(crash).toMatchObject({ message: 'Internal failure: boom', $metadata: { httpStatusCode: 500 } });
  });

  it('control plane - raw requests: malformed JSON is 400, a body over 1 MB is 413, an unknown route is 404, Date is the clock', async () => {
    const { endpoint } = await start({ now: () => Date.UTC(2030, 0, 1, 12, 30, 5) });
    const malformed = await fetch(`${endpoint}/jobs/job-1`, { method: 'PUT', body: '{"targets": [', headers: { 'Content-Type': 'application/json' } });
    expect(malformed.status).toBe(400);
    expect(malformed.headers.get('x-amzn-ErrorType')).toBe('InvalidRequestException');
    expect(malformed.headers.get('date')).toBe('Tue, 01 Jan 2030 12:30:05 GMT');
    expect(await malformed.json()).toEqual({ message: expect.stringContaining('Request body is not JSON') });
    const wrongShape = await fetch(`${endpoint}/jobs/job-1`, { method: 'PUT', body: JSON.stringify({ targets: 'thing-A', document: 5 }) });
    expect(wrongShape.status).toBe(400);
    expect(await wrongShape.json()).toEqual({ message: expect.stringMatching(/targets: .*document: /) });
    const huge = await fetch(`${endpoint}/jobs/job-1`, { method: 'PUT', body: 'x'.repeat(1_048_577) });
    expect(huge.status).toBe(413);
    expect(huge.headers.get('x-amzn-ErrorType')).toBe('InvalidRequestException');
    // Chunked, so no Content-Length announces the size: the limit applies while reading.
    const chunks = Array.from({ length: 17 }, () => new Uint8Array(65_536).fill(32));
    const body = new ReadableStream<Uint8Array>({
      pull: (controller) => {
        const next = chunks.pop();
        if (next === undefined) controller.close();
        else controller.enqueue(next);
      },
    });
    const streamed = await fetch(`${endpoint}/jobs/job-1`, { method: 'PUT', body, duplex: 'half' });
    expect(streamed.status).toBe(413);
    const unknown = await fetch(`${endpoint}/thing-groups/fleet`);
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('x-amzn-ErrorType')).toBe('UnknownOperationException');
    const badEscape = await fetch(`${endpoint}/jobs/%E0%A4%A`);
    expect(badEscape.status).toBe(400);
    const ok = await fetch(`${endpoint}/jobs`);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ jobs: [] });
  });
});
