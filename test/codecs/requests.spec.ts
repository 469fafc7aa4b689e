import {
  DescribeJobExecutionRequest,
  GetPendingJobExecutionsRequest,
  StartNextPendingJobExecutionRequest,
  UpdateJobExecutionRequest,
} from '../../src/codecs/requests';
import { InvalidRequestError, isJobsError } from '../../src/errors';
import { operations } from '../../src/operations';
import { assertFailure, assertSuccess, deepFreeze, wire } from './helpers';

/** Runs `encode` and returns the InvalidRequestError it throws (fails the test if it throws nothing else). */
const invalidRequest = (encode: () => unknown): InvalidRequestError => {
  let result: unknown;
  try {
    result = encode();
  } catch (error) {
    if (error instanceof InvalidRequestError) return error;
    throw error;
  }
  throw new Error(`expected an InvalidRequestError, it encoded ${JSON.stringify(result)}`);
};

describe('request encoding (client side, operations table)', () => {
  it('getPendingJobExecutions - encodes an empty request as an empty body and no jobId', () => {
    expect(operations.getPendingJobExecutions.encode({})).toStrictEqual({ body: {} });
  });

  it('updateJobExecution - drops undefined fields (as JavaScript callers send them) from the body', () => {
    const request: UpdateJobExecutionRequest = { jobId: 'job-1', status: 'SUCCEEDED', expectedVersion: 0 };
    for (const key of ['executionNumber', 'statusDetails', 'includeJobDocument']) {
      Object.defineProperty(request, key, { value: undefined, enumerable: true });
    }
    expect(Object.keys(request)).toContain('executionNumber');
    const encoded = operations.updateJobExecution.encode(request);
    expect(encoded).toStrictEqual({ jobId: 'job-1', body: { status: 'SUCCEEDED', expectedVersion: 0 } });
    expect(Object.keys(encoded.body)).toStrictEqual(['status', 'expectedVersion']);
  });

  it('startNextPendingJobExecution - encodes statusDetails and stepTimeoutInMinutes in the body', () => {
    expect(
      operations.startNextPendingJobExecution.encode({ statusDetails: { step: 'download' }, stepTimeoutInMinutes: 10 }),
    ).toStrictEqual({ body: { statusDetails: { step: 'download' }, stepTimeoutInMinutes: 10 } });
  });

  it('describeJobExecution - moves jobId out of the body and keeps 0 and false', () => {
    expect(
      operations.describeJobExecution.encode({ jobId: 'job-1', executionNumber: 0, includeJobDocument: false }),
    ).toStrictEqual({ jobId: 'job-1', body: { executionNumber: 0, includeJobDocument: false } });
  });

  it('describeJobExecution - accepts $next', () => {
    expect(operations.describeJobExecution.encode({ jobId: '$next' })).toStrictEqual({ jobId: '$next', body: {} });
  });

  it('updateJobExecution - keeps every falsy field (0, false) and -1 in the body', () => {
    expect(
      operations.updateJobExecution.encode({
        jobId: 'job-1',
        status: 'IN_PROGRESS',
        statusDetails: {},
        expectedVersion: 0,
        executionNumber: 0,
        includeJobExecutionState: false,
        includeJobDocument: false,
        stepTimeoutInMinutes: -1,
      }),
    ).toStrictEqual({
      jobId: 'job-1',
      body: {
        status: 'IN_PROGRESS',
        statusDetails: {},
        expectedVersion: 0,
        executionNumber: 0,
        includeJobExecutionState: false,
        includeJobDocument: false,
        stepTimeoutInMinutes: -1,
      },
    });
  });

  it('updateJobExecution - strips unknown keys, thingName and jobId from the body', () => {
    const status: UpdateJobExecutionRequest['status'] = 'SUCCEEDED';
    const request = {
      jobId: 'job-1',
      thingName: 'MyThing',
      status,
      statusDetails: { result: 'ok' },
      retries: 3,
      nested: { deep: true },
    };
    const encoded = operations.updateJobExecution.encode(request);
    expect(encoded).toStrictEqual({ jobId: 'job-1', body: { status: 'SUCCEEDED', statusDetails: { result: 'ok' } } });
    expect(Object.keys(encoded.body).sort()).toStrictEqual(['status', 'statusDetails']);
  });

  it('describeJobExecution - strips unknown keys and thingName from the body', () => {
    const request = { jobId: 'job-1', thingName: 'MyThing', includeDocument: true, includeJobDocument: true };
    expect(operations.describeJobExecution.encode(request)).toStrictEqual({ jobId: 'job-1', body: { includeJobDocument: true } });
  });

  it('startNextPendingJobExecution - strips unknown keys from the body', () => {
    const request = { thingName: 'MyThing', stepTimeout: 5, stepTimeoutInMinutes: 5 };
    expect(operations.startNextPendingJobExecution.encode(request)).toStrictEqual({ body: { stepTimeoutInMinutes: 5 } });
  });

  it('updateJobExecution - does not mutate the caller request (deep-frozen)', () => {
    const status: UpdateJobExecutionRequest['status'] = 'FAILED';
    const request = deepFreeze({
      jobId: 'job-1',
      thingName: 'MyThing',
      status,
      statusDetails: { errorCode: '101', errorMsg: 'Unable to install update' },
      expectedVersion: 2,
      extra: { nested: [1, 2] },
    });
    const before = structuredClone(request);
    const encoded = operations.updateJobExecution.encode(request);
    expect(request).toStrictEqual(before);
    expect(encoded.body).not.toBe(request);
    expect(encoded.body).toStrictEqual({
      status: 'FAILED',
      statusDetails: { errorCode: '101', errorMsg: 'Unable to install update' },
      expectedVersion: 2,
    });
  });

  it('describeJobExecution - does not mutate the caller request (deep-frozen)', () => {
    const request = deepFreeze({ jobId: '$next', includeJobDocument: false, unknownKey: 'x' });
    const before = structuredClone(request);
    expect(operations.describeJobExecution.encode(request)).toStrictEqual({ jobId: '$next', body: { includeJobDocument: false } });
    expect(request).toStrictEqual(before);
  });

  it.each([
    ['a Map', new Map([['progress', '50%']])],
    ['a Date', new Date(0)],
    ['a String object', new String('ok')],
    ['an object of another class', new (class Details { progress = '50%'; })()],
  ])('updateJobExecution - refuses statusDetails that is %s, not a plain string map (a JavaScript caller)', (_label, statusDetails) => {
    // A Map would go out as {}, a Date as a string: something else than the caller meant, or a rejection.
    const request = { jobId: 'job-1', status: 'IN_PROGRESS', statusDetails } as unknown as UpdateJobExecutionRequest;
    const error = invalidRequest(() => operations.updateJobExecution.encode(request));
    expect(error.issues.join('\n')).toContain('statusDetails');
  });

  it('updateJobExecution - takes statusDetails made without a prototype', () => {
    const statusDetails: Record<string, string> = Object.assign(Object.create(null) as Record<string, string>, { step: 'download' });
    const { body } = operations.updateJobExecution.encode({ jobId: 'job-1', status: 'IN_PROGRESS', statusDetails });
    expect(JSON.stringify(body)).toBe('{"status":"IN_PROGRESS","statusDetails":{"step":"download"}}');
  });

  it('updateJobExecution - refuses $next with InvalidRequestError before any I/O', () => {
    const error = invalidRequest(() => operations.updateJobExecution.encode({ jobId: '$next', status: 'SUCCEEDED' }));
    expect(error.issues).toStrictEqual(['jobId: expected JobId, got "$next"']);
    expect(error.operation).toBe('updateJobExecution');
    expect(isJobsError(error)).toBe(true);
  });

  it.each(['QUEUED', 'CANCELED', 'TIMED_OUT', 'REMOVED', 'succeeded'])(
    'updateJobExecution - refuses the service-only or unknown status %s with a readable issue',
    (status) => {
      const error = invalidRequest(() =>
        // @ts-expect-error a device may only send IN_PROGRESS, SUCCEEDED, FAILED or REJECTED
        operations.updateJobExecution.encode({ jobId: 'job-1', status }),
      );
      expect(error.issues).toStrictEqual([`status: expected DeviceStatus, got "${status}"`]);
      expect(error.message).toBe(`invalid request to updateJobExecution: status: expected DeviceStatus, got "${status}"`);
    },
  );

  it.each(['IN_PROGRESS', 'SUCCEEDED', 'FAILED', 'REJECTED'] satisfies UpdateJobExecutionRequest['status'][])(
    'updateJobExecution - accepts the device status %s',
    (status) => {
      expect(operations.updateJobExecution.encode({ jobId: 'job-1', status })).toStrictEqual({ jobId: 'job-1', body: { status } });
    },
  );

  it('describeJobExecution - refuses a job id that is not a topic segment', () => {
    const error = invalidRequest(() => operations.describeJobExecution.encode({ jobId: 'a/b' }));
    expect(error.issues).toStrictEqual(['jobId: expected JobIdOrNext, got "a/b"']);
    expect(error.operation).toBe('describeJobExecution');
  });

  it('updateJobExecution - reports every problem, one line each, with its path', () => {
    const error = invalidRequest(() =>
      operations.updateJobExecution.encode({
        jobId: 'job/1',
        status: 'IN_PROGRESS',
        statusDetails: { step: 'line1\nline2' },
        stepTimeoutInMinutes: 0,
        executionNumber: 1.5,
      }),
    );
    expect(error.issues).toStrictEqual([
      'jobId: expected JobId, got "job/1"',
      'statusDetails.step: expected StatusDetailsValue, got "line1\\nline2"',
      'executionNumber: expected Long, got 1.5',
      'stepTimeoutInMinutes: expected UpdateStepTimeoutInMinutes, got 0',
    ]);
  });

  // A key the service refuses must fail before I/O, not vanish from the body (see primitives.spec).
  it('updateJobExecution - refuses a statusDetails key the service would refuse instead of dropping it', () => {
    const error = invalidRequest(() =>
      operations.updateJobExecution.encode({ jobId: 'job-1', status: 'FAILED', statusDetails: { 'error message': 'disk full' } }),
    );
    expect(error.operation).toBe('updateJobExecution');
    expect(error.issues.join('\n')).toContain('error message');
  });

  it('startNextPendingJobExecution - refuses stepTimeoutInMinutes -1 (Update only)', () => {
    const error = invalidRequest(() => operations.startNextPendingJobExecution.encode({ stepTimeoutInMinutes: -1 }));
    expect(error.issues).toStrictEqual(['stepTimeoutInMinutes: expected StepTimeoutInMinutes, got -1']);
    expect(error.operation).toBe('startNextPendingJobExecution');
  });

  it('startNextPendingJobExecution - refuses a statusDetails value over 1024 characters', () => {
    const error = invalidRequest(() => operations.startNextPendingJobExecution.encode({ statusDetails: { log: 'x'.repeat(1025) } }));
    expect(error.issues).toStrictEqual([`statusDetails.log: expected StatusDetailsValue, got "${'x'.repeat(56)}...`]);
  });

  it('updateJobExecution - the encoded body decodes back to the same request (emulator side)', () => {
    const request = {
      jobId: 'job-1',
      status: 'IN_PROGRESS',
      statusDetails: { progress: '50%' },
      expectedVersion: 1,
      includeJobExecutionState: true,
      stepTimeoutInMinutes: 30,
    } satisfies UpdateJobExecutionRequest;
    const { jobId, body } = operations.updateJobExecution.encode(request);
    assertSuccess(UpdateJobExecutionRequest.decode({ ...body, jobId }), request);
  });
});

describe('request codecs (wire side, as the emulator decodes)', () => {
  it('GetPendingJobExecutionsRequest - decodes the spec request', () => {
    assertSuccess(GetPendingJobExecutionsRequest.decode(wire('{"clientToken":"58920924-ccbf-43c0-8a23-79ece5ce7896"}')), {
      clientToken: '58920924-ccbf-43c0-8a23-79ece5ce7896',
    });
  });

  it('GetPendingJobExecutionsRequest - strips the v1 SDK thingName', () => {
    assertSuccess(GetPendingJobExecutionsRequest.decode(wire('{"thingName":"MyThing","clientToken":"c-0"}')), { clientToken: 'c-0' });
  });

  it('StartNextPendingJobExecutionRequest - decodes the spec request', () => {
    assertSuccess(
      StartNextPendingJobExecutionRequest.decode(wire('{"statusDetails":{"step":"download"},"stepTimeoutInMinutes":10,"clientToken":"c-1"}')),
      { statusDetails: { step: 'download' }, stepTimeoutInMinutes: 10, clientToken: 'c-1' },
    );
  });

  it('StartNextPendingJobExecutionRequest - strips the v1 SDK thingName', () => {
    assertSuccess(StartNextPendingJobExecutionRequest.decode(wire('{"thingName":"MyThing","stepTimeoutInMinutes":10}')), {
      stepTimeoutInMinutes: 10,
    });
  });

  it('StartNextPendingJobExecutionRequest - decodes the HTTPS empty body', () => {
    assertSuccess(StartNextPendingJobExecutionRequest.decode(wire('{}')), {});
  });

  it('DescribeJobExecutionRequest - decodes the spec $next request with the topic jobId', () => {
    assertSuccess(DescribeJobExecutionRequest.decode({ ...asObject(wire('{"includeJobDocument":true,"clientToken":"c-2"}')), jobId: '$next' }), {
      jobId: '$next',
      includeJobDocument: true,
      clientToken: 'c-2',
    });
  });

  it('DescribeJobExecutionRequest - decodes the v1 SDK payload, stripping thingName', () => {
    const decoded = assertSuccess(
      DescribeJobExecutionRequest.decode(
        wire('{"thingName":"MyThing","jobId":"job-1","executionNumber":0,"includeJobDocument":false,"clientToken":"c-3"}'),
      ),
      { jobId: 'job-1', executionNumber: 0, includeJobDocument: false, clientToken: 'c-3' },
    );
    expect(decoded).not.toHaveProperty('thingName');
  });

  it('UpdateJobExecutionRequest - decodes the spec request, expectedVersion "1" as 1', () => {
    const body = wire('{"status":"IN_PROGRESS","statusDetails":{"progress":"50%"},"expectedVersion":"1","clientToken":"client001"}');
    const decoded = assertSuccess(UpdateJobExecutionRequest.decode({ ...asObject(body), jobId: '0023' }), {
      jobId: '0023',
      status: 'IN_PROGRESS',
      statusDetails: { progress: '50%' },
      expectedVersion: 1,
      clientToken: 'client001',
    });
    expect(UpdateJobExecutionRequest.encode(decoded).expectedVersion).toBe(1);
  });

  it.each([
    [
      '{"status":"SUCCEEDED","statusDetails":{"progress":"100%"},"expectedVersion":"2","clientToken":"client-001"}',
      { status: 'SUCCEEDED', statusDetails: { progress: '100%' }, expectedVersion: 2, clientToken: 'client-001' },
    ],
    [
      '{"status":"FAILED","statusDetails":{"errorCode":"101","errorMsg":"Unable to install update"},"expectedVersion":"2","clientToken":"client-001"}',
      {
        status: 'FAILED',
        statusDetails: { errorCode: '101', errorMsg: 'Unable to install update' },
        expectedVersion: 2,
        clientToken: 'client-001',
      },
    ],
  ] satisfies [string, Omit<UpdateJobExecutionRequest, 'jobId'> & { clientToken: string }][])(
    'UpdateJobExecutionRequest - decodes the spec completion request %s',
    (text, expected) => {
      assertSuccess(UpdateJobExecutionRequest.decode({ ...asObject(wire(text)), jobId: '0023' }), { ...expected, jobId: '0023' });
    },
  );

  it('UpdateJobExecutionRequest - decodes the HTTPS update body', () => {
    const body = wire('{"status":"SUCCEEDED","statusDetails":{"result":"ok"},"expectedVersion":3,"includeJobExecutionState":true}');
    assertSuccess(UpdateJobExecutionRequest.decode({ ...asObject(body), jobId: 'SampleJob' }), {
      jobId: 'SampleJob',
      status: 'SUCCEEDED',
      statusDetails: { result: 'ok' },
      expectedVersion: 3,
      includeJobExecutionState: true,
    });
  });

  it('UpdateJobExecutionRequest - decodes the v1 SDK payload, stripping thingName', () => {
    const decoded = assertSuccess(
      UpdateJobExecutionRequest.decode(
        wire(
          '{"thingName":"MyThing","jobId":"0023","status":"IN_PROGRESS","statusDetails":{"progress":"50%"},"expectedVersion":1,"includeJobExecutionState":false,"includeJobDocument":false,"executionNumber":0}',
        ),
      ),
      {
        jobId: '0023',
        status: 'IN_PROGRESS',
        statusDetails: { progress: '50%' },
        expectedVersion: 1,
        includeJobExecutionState: false,
        includeJobDocument: false,
        executionNumber: 0,
      },
    );
    expect(decoded).not.toHaveProperty('thingName');
    expect(UpdateJobExecutionRequest.encode(decoded)).toStrictEqual({
      jobId: '0023',
      status: 'IN_PROGRESS',
      statusDetails: { progress: '50%' },
      expectedVersion: 1,
      includeJobExecutionState: false,
      includeJobDocument: false,
      executionNumber: 0,
    });
  });

  it('UpdateJobExecutionRequest - refuses a service-only status on the wire', () => {
    assertFailure(UpdateJobExecutionRequest, { jobId: '0023', status: 'QUEUED' }, ['status: expected DeviceStatus, got "QUEUED"']);
    assertFailure(UpdateJobExecutionRequest, { jobId: '0023', status: 'CANCELED' }, ['status: expected DeviceStatus, got "CANCELED"']);
  });

  it('UpdateJobExecutionRequest - refuses a missing status and jobId', () => {
    assertFailure(UpdateJobExecutionRequest, {}, ['jobId: expected JobId, got nothing', 'status: expected DeviceStatus, got nothing']);
  });

  it('UpdateJobExecutionRequest - refuses a non-numeric expectedVersion string', () => {
    assertFailure(UpdateJobExecutionRequest, { jobId: '0023', status: 'SUCCEEDED', expectedVersion: 'v1' }, [
      'expectedVersion: expected ExpectedVersion, got "v1"',
    ]);
  });

  it('UpdateJobExecutionRequest - refuses wrongly typed booleans and numbers', () => {
    assertFailure(
      UpdateJobExecutionRequest,
      { jobId: '0023', status: 'SUCCEEDED', includeJobDocument: 'false', executionNumber: '1' },
      ['executionNumber: expected Long, got "1"', 'includeJobDocument: expected boolean, got "false"'],
    );
  });

  it('DescribeJobExecutionRequest - refuses a clientToken over 64 characters', () => {
    assertFailure(DescribeJobExecutionRequest, { jobId: 'job-1', clientToken: 'c'.repeat(65) }, [
      `clientToken: expected ClientToken, got "${'c'.repeat(56)}...`,
    ]);
  });

  it('GetPendingJobExecutionsRequest - refuses a non-object body', () => {
    assertFailure(GetPendingJobExecutionsRequest, 'get', ['(root): expected GetPendingJobExecutionsRequest, got "get"']);
  });
});

/** Narrows a parsed spec payload to an object so a test can add the topic's jobId to it. */
function asObject(value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('expected a JSON object');
  return Object.fromEntries(Object.entries(value));
}
