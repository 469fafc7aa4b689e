import { expectTypeOf } from 'expect-type';
import * as t from 'io-ts';
import type { Observable, ObservedValueOf } from 'rxjs';
import * as api from '../../src';
import {
  DecodeError,
  InvalidRequestError,
  JobsError,
  RejectedError,
  RequestTimeoutError,
  TransportError,
  createJobsClient,
  isJobsError,
  type DescribeJobExecutionRequest,
  type DescribeJobExecutionResponse,
  type DeviceStatus,
  type GetPendingJobExecutionsResponse,
  type JobExecutionStatus,
  type JobExecutionSummary,
  type JobExecutionsChangedEvent,
  type JobsClient,
  type ConnectionState,
  type MqttClientPort,
  type MqttPort,
  type NextJobExecutionChangedEvent,
  type StartNextPendingJobExecutionResponse,
  type UpdateJobExecutionRequest,
  type UpdateJobExecutionResponse,
} from '../../src';
import * as testing from '../../src/testing';

/**
 * Compile-time pins of the public API (checked by `tsc --noEmit`, which `npm test` runs first), plus the
 * runtime shape of the two public entries.
 */

const Doc = t.type({ operation: t.string, url: t.string });
type Doc = t.TypeOf<typeof Doc>;

const transport = testing.createFakeJobsTransport();

describe('public types', () => {
  it('createJobsClient - without a document codec gives JobsClient<unknown>', () => {
    const jobs = createJobsClient({ thingName: 'thing-A', transport });
    // `JobsClient` is `JobsClient<unknown>` (the lint rule refuses the explicit default); the document type
    // is pinned to `unknown` below, independently of that default.
    expectTypeOf(jobs).toEqualTypeOf<JobsClient>();
    expectTypeOf(jobs.describeJobExecution).returns.toEqualTypeOf<Observable<DescribeJobExecutionResponse>>();
    type Emitted = ObservedValueOf<ReturnType<typeof jobs.describeJobExecution>>;
    expectTypeOf<NonNullable<Emitted['execution']>['jobDocument']>().toBeUnknown();
    expect(jobs.thingName).toBe('thing-A');
  });

  it('createJobsClient - with jobDocument gives documents of the codec type', () => {
    const jobs = createJobsClient({ thingName: 'thing-A', transport, jobDocument: Doc });
    expectTypeOf(jobs).toEqualTypeOf<JobsClient<Doc>>();
    expectTypeOf(jobs.describeJobExecution).returns.toEqualTypeOf<Observable<DescribeJobExecutionResponse<Doc>>>();
    expectTypeOf(jobs.startNextPendingJobExecution).returns.toEqualTypeOf<Observable<StartNextPendingJobExecutionResponse<Doc>>>();
    expectTypeOf(jobs.updateJobExecution).returns.toEqualTypeOf<Observable<UpdateJobExecutionResponse<Doc>>>();
    expectTypeOf(jobs.getPendingJobExecutions).returns.toEqualTypeOf<Observable<GetPendingJobExecutionsResponse>>();
    expectTypeOf(jobs.jobExecutionsChanged).returns.toEqualTypeOf<Observable<JobExecutionsChangedEvent>>();
    expectTypeOf(jobs.nextJobExecutionChanged).returns.toEqualTypeOf<Observable<NextJobExecutionChangedEvent<Doc>>>();
    expectTypeOf(jobs.eventDecodeErrors).returns.toEqualTypeOf<Observable<DecodeError>>();
    expect(jobs.thingName).toBe('thing-A');
  });

  it('createJobsClient - an unknown codec keeps documents unknown', () => {
    const jobs = createJobsClient({ thingName: 'thing-A', transport, jobDocument: t.unknown });
    expectTypeOf(jobs).toEqualTypeOf<JobsClient>();
    type Emitted = ObservedValueOf<ReturnType<typeof jobs.nextJobExecutionChanged>>;
    expectTypeOf<NonNullable<Emitted['execution']>['jobDocument']>().toBeUnknown();
  });

  it('JobExecution - documents, timestamps and numbers have their domain types', () => {
    type Execution = NonNullable<DescribeJobExecutionResponse<Doc>['execution']>;
    expectTypeOf<Execution['jobDocument']>().toEqualTypeOf<Doc | undefined>();
    expectTypeOf<Execution['queuedAt']>().toEqualTypeOf<Date | undefined>();
    expectTypeOf<Execution['startedAt']>().toEqualTypeOf<Date | undefined>();
    expectTypeOf<Execution['lastUpdatedAt']>().toEqualTypeOf<Date | undefined>();
    expectTypeOf<Execution['jobId']>().toEqualTypeOf<string>();
    expectTypeOf<Execution['status']>().toEqualTypeOf<JobExecutionStatus>();
    expectTypeOf<Execution['versionNumber']>().toEqualTypeOf<number | undefined>();
    expectTypeOf<Execution['statusDetails']>().toEqualTypeOf<{ [key: string]: string } | undefined>();
    expectTypeOf<NonNullable<DescribeJobExecutionResponse['execution']>['jobDocument']>().toEqualTypeOf<unknown>();
    expectTypeOf<NonNullable<NextJobExecutionChangedEvent<Doc>['execution']>['jobDocument']>().toEqualTypeOf<Doc | undefined>();
    expectTypeOf<UpdateJobExecutionResponse<Doc>['jobDocument']>().toEqualTypeOf<Doc | undefined>();
  });

  it('responses - lists, timestamps and rejection state have their domain types', () => {
    expectTypeOf<GetPendingJobExecutionsResponse['queuedJobs']>().toEqualTypeOf<JobExecutionSummary[]>();
    expectTypeOf<GetPendingJobExecutionsResponse['timestamp']>().toEqualTypeOf<Date | undefined>();
    expectTypeOf<JobExecutionSummary['queuedAt']>().toEqualTypeOf<Date | undefined>();
    expectTypeOf<JobExecutionsChangedEvent['jobs']['QUEUED']>().toEqualTypeOf<JobExecutionSummary[] | undefined>();
    expectTypeOf<NonNullable<UpdateJobExecutionResponse['executionState']>['status']>().toEqualTypeOf<JobExecutionStatus>();
    expectTypeOf<RejectedError['code']>().toEqualTypeOf<string>();
  });

  it('requests - accept plain strings and numbers, and only device statuses', () => {
    expectTypeOf<DescribeJobExecutionRequest['jobId']>().toEqualTypeOf<string>();
    expectTypeOf<UpdateJobExecutionRequest['jobId']>().toEqualTypeOf<string>();
    expectTypeOf<UpdateJobExecutionRequest['status']>().toEqualTypeOf<DeviceStatus>();
    expectTypeOf<DeviceStatus>().toEqualTypeOf<'IN_PROGRESS' | 'SUCCEEDED' | 'FAILED' | 'REJECTED'>();
    expectTypeOf<UpdateJobExecutionRequest['expectedVersion']>().toEqualTypeOf<number | undefined>();
    expectTypeOf<UpdateJobExecutionRequest['statusDetails']>().toEqualTypeOf<{ [key: string]: string } | undefined>();

    const jobs = createJobsClient({ thingName: 'thing-A', transport });
    const jobId: string = 'job-1';
    // Observables are cold: these calls only build them, nothing is sent.
    expectTypeOf(jobs.describeJobExecution({ jobId })).toEqualTypeOf<Observable<DescribeJobExecutionResponse>>();
    expectTypeOf(jobs.describeJobExecution({ jobId: '$next', executionNumber: 0, includeJobDocument: false })).not.toBeAny();
    expectTypeOf(jobs.updateJobExecution({ jobId, status: 'SUCCEEDED', statusDetails: { result: 'ok' }, expectedVersion: 2 })).not.toBeAny();
    expectTypeOf(jobs.updateJobExecution({ jobId, status: 'IN_PROGRESS', stepTimeoutInMinutes: -1 })).not.toBeAny();
    expectTypeOf(jobs.getPendingJobExecutions()).toEqualTypeOf<Observable<GetPendingJobExecutionsResponse>>();
    expectTypeOf(jobs.startNextPendingJobExecution()).not.toBeAny();
    expect(transport.calls).toHaveLength(0);
  });

  it('requests - what must not compile', () => {
    const jobs = createJobsClient({ thingName: 'thing-A', transport });
    // @ts-expect-error QUEUED is set by the service, never by a device
    jobs.updateJobExecution({ jobId: 'job-1', status: 'QUEUED' });
    // @ts-expect-error CANCELED is set by the service, never by a device
    jobs.updateJobExecution({ jobId: 'job-1', status: 'CANCELED' });
    // @ts-expect-error status is required on every update
    jobs.updateJobExecution({ jobId: 'job-1' });
    // @ts-expect-error jobId is required
    jobs.describeJobExecution({});
    // @ts-expect-error jobId is required
    jobs.updateJobExecution({ status: 'SUCCEEDED' });
    // @ts-expect-error unknown option key in a literal
    jobs.describeJobExecution({ jobId: 'job-1', includeDocument: true });
    // @ts-expect-error the pipeline mints clientToken; callers do not pass it
    jobs.describeJobExecution({ jobId: 'job-1', clientToken: 'c-1' });
    // @ts-expect-error the pipeline mints clientToken; callers do not pass it
    jobs.getPendingJobExecutions({ clientToken: 'c-1' });
    // @ts-expect-error numbers are numbers, not strings
    jobs.startNextPendingJobExecution({ stepTimeoutInMinutes: '10' });
    // @ts-expect-error statusDetails values are strings
    jobs.startNextPendingJobExecution({ statusDetails: { progress: 50 } });
    // @ts-expect-error unknown option key in createJobsClient
    createJobsClient({ thingName: 'thing-A', transport, timeout: 5_000 });
    expect(() =>
      // @ts-expect-error thingName is required
      createJobsClient({ transport }),
    ).toThrow(InvalidRequestError);
    expect(transport.calls).toHaveLength(0);
  });

  it('responses - what must not compile', () => {
    const readDocument = (response: DescribeJobExecutionResponse<Doc>): void => {
      // @ts-expect-error queuedAt is a Date, not epoch seconds
      const queuedAt: number | undefined = response.execution?.queuedAt;
      // @ts-expect-error the document has the codec type, operation is a string
      const operation: number | undefined = response.execution?.jobDocument?.operation;
      // @ts-expect-error the execution may be absent (nothing pending)
      const jobId: string = response.execution.jobId;
      expect([queuedAt, operation, jobId]).toBeDefined();
    };
    expectTypeOf(readDocument).parameter(0).toEqualTypeOf<DescribeJobExecutionResponse<Doc>>();
  });

  it('fromMqttClient - its port always has connection$ (docs/agent.md pipes it without a check)', () => {
    expectTypeOf(api.fromMqttClient).returns.toEqualTypeOf<MqttClientPort>();
    expectTypeOf<MqttClientPort['connection$']>().toEqualTypeOf<Observable<ConnectionState>>();
    expectTypeOf<MqttPort['connection$']>().toEqualTypeOf<Observable<ConnectionState> | undefined>();
  });

  it('errors - literal names, structured fields and the isJobsError guard', () => {
    expectTypeOf<InvalidRequestError['name']>().toEqualTypeOf<'InvalidRequestError'>();
    expectTypeOf<RejectedError['name']>().toEqualTypeOf<'RejectedError'>();
    expectTypeOf<DecodeError['name']>().toEqualTypeOf<'DecodeError'>();
    expectTypeOf<RequestTimeoutError['name']>().toEqualTypeOf<'RequestTimeoutError'>();
    expectTypeOf<RequestTimeoutError['jobId']>().toEqualTypeOf<string | undefined>();
    expectTypeOf<TransportError['name']>().toEqualTypeOf<'TransportError'>();
    expectTypeOf<InvalidRequestError['issues']>().toEqualTypeOf<readonly string[]>();
    expectTypeOf(isJobsError).guards.toEqualTypeOf<JobsError>();
  });
});

describe('public entries', () => {
  it('index - exports the documented functions', () => {
    expect(typeof api.createJobsClient).toBe('function');
    expect(typeof api.mqttTransport).toBe('function');
    expect(typeof api.connectMqtt).toBe('function');
    expect(typeof api.isJobsError).toBe('function');
  });

  it('index - exports the six error classes, all JobsErrors', () => {
    const errors: readonly Error[] = [
      new api.JobsError('base'),
      new api.InvalidRequestError(['jobId: expected JobId, got "a/b"']),
      new api.RejectedError({ code: 'VersionMismatch', message: 'stale' }),
      new api.DecodeError({ codec: 'JobExecution', issues: ['(root): not JSON'], payload: '{' }),
      new api.RequestTimeoutError('describeJobExecution', 'c-1', 10),
      new api.TransportError('offline'),
    ];
    expect(errors.map((error) => error.name)).toStrictEqual([
      'JobsError',
      'InvalidRequestError',
      'RejectedError',
      'DecodeError',
      'RequestTimeoutError',
      'TransportError',
    ]);
    for (const error of errors) {
      expect(error).toBeInstanceOf(api.JobsError);
      expect(api.isJobsError(error)).toBe(true);
    }
    expect(api.isJobsError(new Error('other'))).toBe(false);
  });

  it('MqttPort - subscription events, connection states and the options a port-based client takes', () => {
    expectTypeOf<api.SubscriptionEvent['kind']>().toEqualTypeOf<'subscribed' | 'lapsed' | 'message'>();
    expectTypeOf<Extract<api.SubscriptionEvent, { kind: 'subscribed' }>['resumed']>().toEqualTypeOf<boolean | undefined>();
    expectTypeOf<api.ConnectionState>().toEqualTypeOf<'up' | 'down' | 'end'>();
    expectTypeOf<api.JobsClientOptions<unknown>['callerStacks']>().toEqualTypeOf<boolean | undefined>();
    expectTypeOf<api.ConnectMqttOptions['sessionExpirySeconds']>().toEqualTypeOf<number | undefined>();
    expectTypeOf(testing.createFakeMqttPort().lapse).toEqualTypeOf<(filter?: string) => void>();
    expect(typeof api.fromMqttClient).toBe('function');
  });

  it('index - keeps internals private', () => {
    for (const internal of ['operations', 'events', 'request', 'encodeRequest', 'decodePayload', 'report', 'withDefault']) {
      expect(api).not.toHaveProperty(internal);
    }
  });

  it('testing - exports the fakes and payload builders', () => {
    expect(typeof testing.createFakeMqttPort).toBe('function');
    expect(typeof testing.createFakeJobsTransport).toBe('function');
    for (const builder of [
      testing.acceptedPayload,
      testing.clientTokenOf,
      testing.notifyNextPayload,
      testing.notifyPayload,
      testing.rejectedPayload,
      testing.replyFor,
      testing.wireJobExecution,
      testing.wireSummary,
    ]) {
      expect(typeof builder).toBe('function');
    }
    expect(testing.wireTimestamp).toBe(1_719_940_994);
  });

  it('testing - builders produce payloads the codecs accept', () => {
    const jobs = createJobsClient({ thingName: 'thing-A', transport: testing.createFakeJobsTransport(), jobDocument: Doc });
    expectTypeOf(jobs).toEqualTypeOf<JobsClient<Doc>>();
    expect(testing.wireJobExecution({ status: 'IN_PROGRESS' })).toMatchObject({ status: 'IN_PROGRESS', queuedAt: testing.wireTimestamp });
    expect(testing.notifyPayload({ QUEUED: [testing.wireSummary()] })).toStrictEqual({
      timestamp: testing.wireTimestamp,
      jobs: { QUEUED: [testing.wireSummary()] },
    });
  });
});
