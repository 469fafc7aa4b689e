import * as t from 'io-ts';
import { httpDocument } from '../../src/codecs/http';
import {
  GetPendingJobExecutionsResponse,
  RejectedErrorCode,
  RejectedResponse,
  describeJobExecutionResponse,
  isKnownRejectedErrorCode,
  startNextPendingJobExecutionResponse,
  updateJobExecutionResponse,
} from '../../src/codecs/responses';
import { operations } from '../../src/operations';
import { assertFailure, assertSuccess, failureLines, seconds, wire } from './helpers';

/** The caller's job document codec used by the typed-document tests. */
const Doc = t.type({ operation: t.string }, 'Doc');

/** Payloads copied verbatim from ../shared/spec/jobs-api.md §7. */
const spec = {
  getPendingEmpty:
    '{"clientToken":"58920924-ccbf-43c0-8a23-79ece5ce7896","timestamp":1719940632,"inProgressJobs":[],"queuedJobs":[]}',
  getPending: `{"clientToken":"380a66b5-b5f7-471a-92d4-bd7fbe558472","timestamp":1719943627,
 "inProgressJobs":[{"jobId":"Job1","queuedAt":1719940994,"lastUpdatedAt":1719943388,"startedAt":1719943388,"executionNumber":1,"versionNumber":2}],
 "queuedJobs":[{"jobId":"Job2","queuedAt":1719941716,"lastUpdatedAt":1719941716,"executionNumber":1,"versionNumber":1}]}`,
  startNext: `{"clientToken":"21113e5d-00ca-4fe3-bd00-2a5ce7bbe94a","timestamp":1719943388,
 "execution":{"jobId":"Job1","status":"IN_PROGRESS","queuedAt":1719940994,"startedAt":1719943388,"lastUpdatedAt":1719943388,"versionNumber":2,"executionNumber":1,"jobDocument":{"ToDo":"Reboot"}}}`,
  startNextNothing: '{"clientToken":"c-1","timestamp":1719950000}',
  describeNext:
    '{"clientToken":"c-2","timestamp":1489097434,"execution":{"approximateSecondsBeforeTimedOut":88,"jobId":"023","status":"QUEUED","queuedAt":1489097374,"lastUpdatedAt":1489097374,"versionNumber":1,"executionNumber":1,"jobDocument":{"operation":"test"}}}',
  updateMinimal: '{"clientToken":"c75bfd7d-233d-47a2-8004-2ca20e5e84bf","timestamp":1719943955}',
  updateWithState:
    '{"executionState":{"status":"IN_PROGRESS","statusDetails":{"progress":"50%"},"versionNumber":2},"timestamp":1719943955,"clientToken":"client001"}',
  rejectedVersionMismatch:
    '{"code":"VersionMismatch","message":"…","clientToken":"client001","timestamp":1719943955,"executionState":{"status":"IN_PROGRESS","statusDetails":{"progress":"50%"},"versionNumber":3}}',
  httpsDescribe:
    '{"execution":{"approximateSecondsBeforeTimedOut":88,"executionNumber":2939653338,"jobId":"SampleJob","lastUpdatedAt":1567701875.743,"queuedAt":1567701902.444,"status":"QUEUED","thingName":"MotionSensor1","versionNumber":3}}',
  httpsGetPending:
    '{"inProgressJobs":[],"queuedJobs":[{"executionNumber":2939653338,"jobId":"SampleJob","lastUpdatedAt":1567701875.743,"queuedAt":1567701902.444,"versionNumber":3}]}',
  httpsStartNext:
    '{"execution":{"approximateSecondsBeforeTimedOut":88,"executionNumber":2939653338,"jobId":"SampleJob","lastUpdatedAt":1567714853.743,"queuedAt":1567701902.444,"startedAt":1567714871.690,"status":"IN_PROGRESS","thingName":"MotionSensor1","versionNumber":3}}',
  httpsUpdate: '{"executionState":{"status":"SUCCEEDED","statusDetails":{"result":"ok"},"versionNumber":4}}',
};

describe('GetPendingJobExecutionsResponse (MQTT)', () => {
  it('GetPendingJobExecutionsResponse - decodes the live reply with nothing pending', () => {
    assertSuccess(GetPendingJobExecutionsResponse.decode(wire(spec.getPendingEmpty)), {
      clientToken: '58920924-ccbf-43c0-8a23-79ece5ce7896',
      timestamp: seconds(1719940632),
      inProgressJobs: [],
      queuedJobs: [],
    });
  });

  it('GetPendingJobExecutionsResponse - decodes the live reply with pending executions', () => {
    assertSuccess(operations.getPendingJobExecutions.response(t.unknown).decode(wire(spec.getPending)), {
      clientToken: '380a66b5-b5f7-471a-92d4-bd7fbe558472',
      timestamp: seconds(1719943627),
      inProgressJobs: [
        {
          jobId: 'Job1',
          queuedAt: seconds(1719940994),
          lastUpdatedAt: seconds(1719943388),
          startedAt: seconds(1719943388),
          executionNumber: 1,
          versionNumber: 2,
        },
      ],
      queuedJobs: [
        { jobId: 'Job2', queuedAt: seconds(1719941716), lastUpdatedAt: seconds(1719941716), executionNumber: 1, versionNumber: 1 },
      ],
    });
  });

  it('GetPendingJobExecutionsResponse - refuses a list that is not an array', () => {
    assertFailure(GetPendingJobExecutionsResponse, { inProgressJobs: 'none', queuedJobs: [] }, [
      'inProgressJobs: expected Array<JobExecutionSummary>, got "none"',
    ]);
  });

  it('GetPendingJobExecutionsResponse - refuses a summary without jobId, naming its index', () => {
    assertFailure(GetPendingJobExecutionsResponse, { inProgressJobs: [], queuedJobs: [{ jobId: 'Job2' }, { queuedAt: 1719941716 }] }, [
      'queuedJobs.1.jobId: expected string, got nothing',
    ]);
  });

  it('GetPendingJobExecutionsResponse - refuses a timestamp sent as a string', () => {
    assertFailure(GetPendingJobExecutionsResponse, { inProgressJobs: [], queuedJobs: [], timestamp: '1719940632' }, [
      'timestamp: expected EpochSeconds, got "1719940632"',
    ]);
  });
});

describe('GetPendingJobExecutionsResponse (HTTPS)', () => {
  it('GetPendingJobExecutionsResponse - decodes the CLI example with fractional seconds', () => {
    assertSuccess(GetPendingJobExecutionsResponse.decode(wire(spec.httpsGetPending)), {
      inProgressJobs: [],
      queuedJobs: [
        {
          executionNumber: 2939653338,
          jobId: 'SampleJob',
          lastUpdatedAt: seconds(1567701875.743),
          queuedAt: seconds(1567701902.444),
          versionNumber: 3,
        },
      ],
    });
  });

  it('GetPendingJobExecutionsResponse - reads absent lists as []', () => {
    assertSuccess(GetPendingJobExecutionsResponse.decode({}), { inProgressJobs: [], queuedJobs: [] });
    assertSuccess(GetPendingJobExecutionsResponse.decode({ queuedJobs: [{ jobId: 'SampleJob' }] }), {
      inProgressJobs: [],
      queuedJobs: [{ jobId: 'SampleJob' }],
    });
  });

  it('GetPendingJobExecutionsResponse - gives each reply its own default list', () => {
    const first = assertSuccess(GetPendingJobExecutionsResponse.decode({}));
    first.queuedJobs.push({ jobId: 'leaked' });
    try {
      const second = assertSuccess(GetPendingJobExecutionsResponse.decode({}));
      expect(second.queuedJobs).toStrictEqual([]);
      expect(second.inProgressJobs).not.toBe(first.inProgressJobs);
    } finally {
      first.queuedJobs.splice(0); // the default list may be shared: leave it as found for later tests
    }
  });
});

describe('StartNextPendingJobExecutionResponse', () => {
  it('StartNextPendingJobExecutionResponse - decodes the live MQTT reply with its document object', () => {
    assertSuccess(startNextPendingJobExecutionResponse(t.unknown).decode(wire(spec.startNext)), {
      clientToken: '21113e5d-00ca-4fe3-bd00-2a5ce7bbe94a',
      timestamp: seconds(1719943388),
      execution: {
        jobId: 'Job1',
        status: 'IN_PROGRESS',
        queuedAt: seconds(1719940994),
        startedAt: seconds(1719943388),
        lastUpdatedAt: seconds(1719943388),
        versionNumber: 2,
        executionNumber: 1,
        jobDocument: { ToDo: 'Reboot' },
      },
    });
  });

  it('StartNextPendingJobExecutionResponse - decodes "nothing pending" without an execution', () => {
    const decoded = assertSuccess(operations.startNextPendingJobExecution.response(t.unknown).decode(wire(spec.startNextNothing)), {
      clientToken: 'c-1',
      timestamp: seconds(1719950000),
    });
    expect(decoded).not.toHaveProperty('execution');
  });

  it('StartNextPendingJobExecutionResponse - decodes the HTTPS CLI example (fractional seconds, thingName)', () => {
    assertSuccess(startNextPendingJobExecutionResponse(httpDocument(t.unknown)).decode(wire(spec.httpsStartNext)), {
      execution: {
        approximateSecondsBeforeTimedOut: 88,
        executionNumber: 2939653338,
        jobId: 'SampleJob',
        lastUpdatedAt: seconds(1567714853.743),
        queuedAt: seconds(1567701902.444),
        startedAt: seconds(1567714871.69),
        status: 'IN_PROGRESS',
        thingName: 'MotionSensor1',
        versionNumber: 3,
      },
    });
  });

  it('StartNextPendingJobExecutionResponse - decodes HTTPS "nothing pending" ({})', () => {
    assertSuccess(startNextPendingJobExecutionResponse(httpDocument(t.unknown)).decode({}), {});
  });
});

describe('DescribeJobExecutionResponse', () => {
  it('DescribeJobExecutionResponse - decodes the $next MQTT reply', () => {
    assertSuccess(describeJobExecutionResponse(t.unknown).decode(wire(spec.describeNext)), {
      clientToken: 'c-2',
      timestamp: seconds(1489097434),
      execution: {
        approximateSecondsBeforeTimedOut: 88,
        jobId: '023',
        status: 'QUEUED',
        queuedAt: seconds(1489097374),
        lastUpdatedAt: seconds(1489097374),
        versionNumber: 1,
        executionNumber: 1,
        jobDocument: { operation: 'test' },
      },
    });
  });

  it('DescribeJobExecutionResponse - decodes the HTTPS CLI example', () => {
    const decoded = assertSuccess(operations.describeJobExecution.response(httpDocument(t.unknown)).decode(wire(spec.httpsDescribe)), {
      execution: {
        approximateSecondsBeforeTimedOut: 88,
        executionNumber: 2939653338,
        jobId: 'SampleJob',
        lastUpdatedAt: seconds(1567701875.743),
        queuedAt: seconds(1567701902.444),
        status: 'QUEUED',
        thingName: 'MotionSensor1',
        versionNumber: 3,
      },
    });
    expect(decoded.execution?.lastUpdatedAt?.toISOString()).toBe('2019-09-05T16:44:35.743Z');
  });

  it('DescribeJobExecutionResponse - parses an HTTPS job document string', () => {
    const decoded = assertSuccess(
      describeJobExecutionResponse(httpDocument(t.unknown)).decode({
        execution: { jobId: 'SampleJob', status: 'QUEUED', jobDocument: '{"operation":"test","steps":[1,2]}' },
      }),
    );
    expect(decoded.execution?.jobDocument).toStrictEqual({ operation: 'test', steps: [1, 2] });
  });

  it('DescribeJobExecutionResponse - tolerates unknown extra fields and keeps them', () => {
    const payload = {
      timestamp: 1719943955,
      clientToken: 'c-9',
      newTopLevelField: 'x',
      execution: { jobId: 'Job1', status: 'QUEUED', newExecutionField: { a: 1 }, statusDetails: { step: 'one' } },
    };
    const decoded = assertSuccess(describeJobExecutionResponse(t.unknown).decode(payload));
    expect(decoded).toStrictEqual({
      timestamp: seconds(1719943955),
      clientToken: 'c-9',
      newTopLevelField: 'x',
      execution: { jobId: 'Job1', status: 'QUEUED', newExecutionField: { a: 1 }, statusDetails: { step: 'one' } },
    });
  });

  it('DescribeJobExecutionResponse - decodes a typed MQTT document with the caller codec', () => {
    const decoded = assertSuccess(describeJobExecutionResponse(Doc).decode(wire(spec.describeNext)));
    expect(decoded.execution?.jobDocument).toStrictEqual({ operation: 'test' });
  });

  it('DescribeJobExecutionResponse - refuses a typed MQTT document with a readable path', () => {
    assertFailure(describeJobExecutionResponse(Doc), { execution: { jobId: '023', status: 'QUEUED', jobDocument: { operation: 1 } } }, [
      'execution.jobDocument.operation: expected string, got 1',
    ]);
    assertFailure(describeJobExecutionResponse(Doc), { execution: { jobId: '023', status: 'QUEUED', jobDocument: { ToDo: 'Reboot' } } }, [
      'execution.jobDocument.operation: expected string, got nothing',
    ]);
  });

  it('DescribeJobExecutionResponse - decodes a typed HTTPS document string with the caller codec', () => {
    const decoded = assertSuccess(
      describeJobExecutionResponse(httpDocument(Doc)).decode({
        execution: { jobId: 'SampleJob', status: 'QUEUED', jobDocument: '{"operation":"reboot"}' },
      }),
    );
    expect(decoded.execution?.jobDocument).toStrictEqual({ operation: 'reboot' });
  });

  it('DescribeJobExecutionResponse - refuses a typed HTTPS document with a readable path', () => {
    assertFailure(
      describeJobExecutionResponse(httpDocument(Doc)),
      { execution: { jobId: 'SampleJob', status: 'QUEUED', jobDocument: '{"operation":2}' } },
      ['execution.jobDocument.operation: expected string, got 2'],
    );
  });

  it('DescribeJobExecutionResponse - refuses an HTTPS job document that is not JSON', () => {
    assertFailure(
      describeJobExecutionResponse(httpDocument(t.unknown)),
      { execution: { jobId: 'SampleJob', status: 'QUEUED', jobDocument: 'reboot' } },
      [`execution.jobDocument: not JSON: Unexpected token 'r', "reboot" is not valid JSON`],
    );
  });

  // The HTTP model allows 0 characters, but an empty text is no JSON document: the reply fails its codec, with a
  // message that says why (found by an audit in stop 11; before, "Unexpected end of JSON input").
  it('DescribeJobExecutionResponse - refuses an empty HTTPS job document, saying it is empty', () => {
    assertFailure(
      describeJobExecutionResponse(httpDocument(t.unknown)),
      { execution: { jobId: 'SampleJob', status: 'QUEUED', jobDocument: '' } },
      ['execution.jobDocument: empty: a job document is JSON'],
    );
  });

  it('DescribeJobExecutionResponse - refuses an HTTPS job document that is an object, not a string', () => {
    assertFailure(
      describeJobExecutionResponse(httpDocument(t.unknown)),
      { execution: { jobId: 'SampleJob', status: 'QUEUED', jobDocument: { operation: 'test' } } },
      ['execution.jobDocument: expected a JSON string'],
    );
  });

  it('DescribeJobExecutionResponse - refuses an HTTPS job document over 32768 characters', () => {
    const jobDocument = JSON.stringify({ blob: 'x'.repeat(32_768) });
    assertFailure(
      describeJobExecutionResponse(httpDocument(t.unknown)),
      { execution: { jobId: 'SampleJob', status: 'QUEUED', jobDocument } },
      ['execution.jobDocument: job document longer than 32768 characters'],
    );
  });

  it('DescribeJobExecutionResponse - refuses an unknown status', () => {
    assertFailure(describeJobExecutionResponse(t.unknown), { execution: { jobId: 'Job1', status: 'DONE' } }, [
      'execution.status: expected JobExecutionStatus, got "DONE"',
    ]);
  });

  it('DescribeJobExecutionResponse - refuses an execution without status or jobId', () => {
    assertFailure(describeJobExecutionResponse(t.unknown), { execution: {} }, [
      'execution.jobId: expected string, got nothing',
      'execution.status: expected JobExecutionStatus, got nothing',
    ]);
  });

  it('DescribeJobExecutionResponse - refuses wrongly typed execution fields', () => {
    assertFailure(
      describeJobExecutionResponse(t.unknown),
      {
        execution: {
          jobId: 7,
          status: 'QUEUED',
          queuedAt: '1719940994',
          versionNumber: 1.5,
          statusDetails: { progress: 50 },
          thingName: null,
        },
        clientToken: 5,
      },
      [
        'execution.jobId: expected string, got 7',
        'execution.thingName: expected string, got null',
        'execution.statusDetails.progress: expected string, got 50',
        'execution.queuedAt: expected EpochSeconds, got "1719940994"',
        'execution.versionNumber: expected Long, got 1.5',
        'clientToken: expected string, got 5',
      ],
    );
  });

  it('DescribeJobExecutionResponse - refuses an execution that is not an object', () => {
    // Only the path is pinned: each intersection member reports its own long structural name.
    const lines = failureLines(describeJobExecutionResponse(t.unknown), { execution: null });
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(line).toMatch(/^execution: expected .*, got null$/);
  });
});

describe('UpdateJobExecutionResponse', () => {
  it('UpdateJobExecutionResponse - decodes the live minimal MQTT reply', () => {
    const decoded = assertSuccess(updateJobExecutionResponse(t.unknown).decode(wire(spec.updateMinimal)), {
      clientToken: 'c75bfd7d-233d-47a2-8004-2ca20e5e84bf',
      timestamp: seconds(1719943955),
    });
    expect(decoded).not.toHaveProperty('executionState');
    expect(decoded).not.toHaveProperty('jobDocument');
  });

  it('UpdateJobExecutionResponse - decodes the reply with executionState', () => {
    assertSuccess(operations.updateJobExecution.response(t.unknown).decode(wire(spec.updateWithState)), {
      executionState: { status: 'IN_PROGRESS', statusDetails: { progress: '50%' }, versionNumber: 2 },
      timestamp: seconds(1719943955),
      clientToken: 'client001',
    });
  });

  it('UpdateJobExecutionResponse - decodes the HTTPS example', () => {
    assertSuccess(updateJobExecutionResponse(httpDocument(t.unknown)).decode(wire(spec.httpsUpdate)), {
      executionState: { status: 'SUCCEEDED', statusDetails: { result: 'ok' }, versionNumber: 4 },
    });
  });

  it('UpdateJobExecutionResponse - decodes a typed document (MQTT object, HTTPS string)', () => {
    expect(assertSuccess(updateJobExecutionResponse(Doc).decode({ jobDocument: { operation: 'x' } })).jobDocument).toStrictEqual({
      operation: 'x',
    });
    expect(
      assertSuccess(updateJobExecutionResponse(httpDocument(Doc)).decode({ jobDocument: '{"operation":"x"}' })).jobDocument,
    ).toStrictEqual({ operation: 'x' });
  });

  it('UpdateJobExecutionResponse - refuses a typed MQTT document with a readable path', () => {
    assertFailure(updateJobExecutionResponse(Doc), { jobDocument: { operation: false } }, ['jobDocument.operation: expected string, got false']);
  });

  it('UpdateJobExecutionResponse - refuses a typed HTTPS document with a readable path', () => {
    assertFailure(updateJobExecutionResponse(httpDocument(Doc)), { jobDocument: '{"operation":false}' }, [
      'jobDocument.operation: expected string, got false',
    ]);
  });

  it('UpdateJobExecutionResponse - refuses an executionState without status', () => {
    assertFailure(updateJobExecutionResponse(t.unknown), { executionState: { versionNumber: 2 } }, [
      'executionState.status: expected JobExecutionStatus, got nothing',
    ]);
  });

  it('UpdateJobExecutionResponse - refuses a non-string statusDetails value', () => {
    assertFailure(updateJobExecutionResponse(t.unknown), { executionState: { status: 'IN_PROGRESS', statusDetails: { progress: 50 } } }, [
      'executionState.statusDetails.progress: expected string, got 50',
    ]);
  });
});

describe('RejectedResponse', () => {
  const documentedCodes = [
    'InvalidTopic',
    'InvalidJson',
    'InvalidRequest',
    'InvalidStateTransition',
    'ResourceNotFound',
    'VersionMismatch',
    'InternalError',
    'RequestThrottled',
    'TerminalStateReached',
  ];

  it('RejectedResponse - decodes the VersionMismatch example with its executionState', () => {
    assertSuccess(RejectedResponse.decode(wire(spec.rejectedVersionMismatch)), {
      code: 'VersionMismatch',
      message: '…',
      clientToken: 'client001',
      timestamp: seconds(1719943955),
      executionState: { status: 'IN_PROGRESS', statusDetails: { progress: '50%' }, versionNumber: 3 },
    });
  });

  it.each(documentedCodes)('RejectedResponse - decodes the documented code %s', (code) => {
    const decoded = assertSuccess(RejectedResponse.decode({ code, message: 'm', clientToken: 'c-1', timestamp: 1719943955 }), {
      code,
      message: 'm',
      clientToken: 'c-1',
      timestamp: seconds(1719943955),
    });
    expect(isKnownRejectedErrorCode(decoded.code)).toBe(true);
  });

  it('RejectedResponse - keeps executionState on InvalidStateTransition', () => {
    const decoded = assertSuccess(
      RejectedResponse.decode({ code: 'InvalidStateTransition', message: 'm', timestamp: 1, executionState: { status: 'SUCCEEDED', versionNumber: 4 } }),
    );
    expect(decoded.executionState).toStrictEqual({ status: 'SUCCEEDED', versionNumber: 4 });
  });

  it('RejectedResponse - decodes an unknown code as a string', () => {
    const decoded = assertSuccess(RejectedResponse.decode({ code: 'BrandNewCode', message: 'new', timestamp: 1719943955 }));
    expect(decoded.code).toBe('BrandNewCode');
    expect(isKnownRejectedErrorCode(decoded.code)).toBe(false);
  });

  it('RejectedResponse - reads a missing message as ""', () => {
    assertSuccess(RejectedResponse.decode({ code: 'InvalidJson' }), { code: 'InvalidJson', message: '' });
  });

  it('RejectedResponse - refuses a missing code and a bad executionState', () => {
    assertFailure(RejectedResponse, { message: 'm' }, ['code: expected string, got nothing']);
    assertFailure(RejectedResponse, { code: 'VersionMismatch', executionState: { status: 'DONE' } }, [
      'executionState.status: expected JobExecutionStatus, got "DONE"',
    ]);
    assertFailure(RejectedResponse, { code: 'VersionMismatch', message: 5 }, ['message: expected string, got 5']);
  });

  it('RejectedErrorCode - lists exactly the codes of the spec table', () => {
    expect(Object.keys(RejectedErrorCode.keys).sort()).toStrictEqual([...documentedCodes].sort());
  });

  it.each(['UNKNOWN_ENUM_VALUE', 'versionmismatch', '', 'ResourceNotFoundException'])(
    'isKnownRejectedErrorCode - is false for %j',
    (code) => {
      expect(isKnownRejectedErrorCode(code)).toBe(false);
    },
  );
});
