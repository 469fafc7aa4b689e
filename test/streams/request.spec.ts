import * as t from 'io-ts';
import { firstValueFrom, retry } from 'rxjs';
import {
  DecodeError,
  InvalidRequestError,
  RejectedError,
  RequestTimeoutError,
} from '../../src/errors';
import { operations } from '../../src/operations';
import { request, type RequestContext } from '../../src/streams/request';
import {
  acceptedPayload,
  createFakeJobsTransport,
  rejectedPayload,
  wireJobExecution,
  type FakeJobsTransport,
} from '../../src/testing';
import type { Call } from '../../src/transport/transport';
import { runMarbles } from '../helpers/marbles';
import { jsonErrorOf, thing } from '../helpers/names';

const thingName = thing('thing-A');

const setup = (timeoutMs = 1000, callerStacks?: boolean) => {
  const transport: FakeJobsTransport = createFakeJobsTransport();
  let n = 0;
  const context: RequestContext = { thingName, transport, timeoutMs, newToken: () => `tok-${++n}`, ...(callerStacks === undefined ? {} : { callerStacks }) };
  const describe = request(operations.describeJobExecution, operations.describeJobExecution.response(t.unknown), context);
  const callAt = (i: number): Call => {
    const call = transport.calls[i];
    if (call === undefined) throw new Error(`no call ${i}`);
    return call;
  };
  return { transport, describe, callAt };
};

describe('request pipeline', () => {
  it('request - nothing is sent before subscription (cold)', () => {
    const { transport, describe } = setup();
    describe({ jobId: 'job-1' });
    expect(transport.calls).toHaveLength(0);
  });

  it('request - sends one call with a fresh token, jobId out of the body', () => {
    const { transport, describe } = setup();
    describe({ jobId: 'job-1', executionNumber: 0, includeJobDocument: false }).subscribe().unsubscribe();
    expect(transport.calls).toEqual([
      {
        operation: 'describeJobExecution',
        thingName: 'thing-A',
        jobId: 'job-1',
        clientToken: 'tok-1',
        payload: { executionNumber: 0, includeJobDocument: false, clientToken: 'tok-1' },
      },
    ]);
  });

  it('request - ignores replies for other tokens, emits the decoded reply and completes', () => {
    runMarbles(({ expectObservable, schedule }) => {
      const { transport, describe, callAt } = setup();
      const execution = wireJobExecution({ jobId: 'job-1', status: 'IN_PROGRESS' });
      schedule(() => {
        transport.reply({ ...callAt(0), clientToken: 'someone-else' }, 'accepted', acceptedPayload('someone-else', {}));
      }, 2);
      schedule(() => {
        transport.reply(callAt(0), 'accepted', acceptedPayload('tok-1', { execution }));
      }, 5);
      expectObservable(describe({ jobId: 'job-1' })).toBe('-----(a|)', {
        a: {
          clientToken: 'tok-1',
          timestamp: new Date(1_719_940_994_000),
          execution: {
            jobId: 'job-1',
            status: 'IN_PROGRESS',
            queuedAt: new Date(1_719_940_994_000),
            lastUpdatedAt: new Date(1_719_940_994_000),
            versionNumber: 1,
            executionNumber: 1,
            jobDocument: { operation: 'test' },
          },
        },
      });
    });
  });

  it('request - fails with RequestTimeoutError at the deadline', () => {
    runMarbles(({ expectObservable }) => {
      const { describe } = setup(1000);
      expectObservable(describe({ jobId: 'job-1' })).toBe(
        '1000ms #',
        undefined,
        new RequestTimeoutError('describeJobExecution', 'tok-1', 1000, 'job-1'),
      );
    });
  });

  it('request - a RequestTimeoutError names the job of the request, and none for an operation without one', async () => {
    const { describe } = setup(1);
    const error = await firstValueFrom(describe({ jobId: 'job-7' })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RequestTimeoutError);
    expect(error instanceof RequestTimeoutError ? [error.message, error.jobId] : []).toEqual([
      'describeJobExecution of job-7 timed out after 1 ms (clientToken tok-1)',
      'job-7',
    ]);
    const pending = new RequestTimeoutError('getPendingJobExecutions', 'tok-2', 5);
    expect([pending.message, pending.jobId]).toEqual(['getPendingJobExecutions timed out after 5 ms (clientToken tok-2)', undefined]);
  });

  it('request - with callerStacks: true a RequestTimeoutError shows the frames of the call that made the request', async () => {
    const limitBefore = Error.stackTraceLimit;
    const { describe } = setup(1, true);
    const describeFromDeviceCode = (): Promise<unknown> => firstValueFrom(describe({ jobId: 'job-1' }));
    const error = await describeFromDeviceCode().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RequestTimeoutError);
    const lines = error instanceof Error ? (error.stack ?? '').split('\n') : [];
    expect(lines[0]).toBe('RequestTimeoutError: describeJobExecution of job-1 timed out after 1 ms (clientToken tok-1)');
    expect(lines[1]).toContain('describeFromDeviceCode');
    // Only a few frames are walked on each request, and the process's own limit is left as it was.
    expect(lines.length).toBeLessThanOrEqual(5);
    expect(Error.stackTraceLimit).toBe(limitBefore);
  });

  it("request - retry() sends again with a fresh token, and with callerStacks: true the last timeout still shows the caller's frames", async () => {
    const { transport, describe } = setup(1, true);
    const capture = jest.spyOn(Error, 'captureStackTrace');
    try {
      const describeWithRetries = (): Promise<unknown> => firstValueFrom(describe({ jobId: 'job-1' }).pipe(retry(2)));
      const error = await describeWithRetries().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RequestTimeoutError);
      expect(transport.calls.map((call) => call.clientToken)).toEqual(['tok-1', 'tok-2', 'tok-3']);
      // One walk, at the call, for the three requests: the resubscriptions come from RxJS's error path.
      expect(capture).toHaveBeenCalledTimes(1);
      const lines = error instanceof Error ? (error.stack ?? '').split('\n') : [];
      expect(lines[0]).toBe('RequestTimeoutError: describeJobExecution of job-1 timed out after 1 ms (clientToken tok-3)');
      expect(lines[1]).toContain('describeWithRetries');
    } finally {
      capture.mockRestore();
    }
  });

  it.each([
    ['by default', undefined],
    ['with callerStacks: false', false],
  ])('request - %s no frames are taken at the call: the timeout shows the timer, not the caller', async (_, callerStacks) => {
    const capture = jest.spyOn(Error, 'captureStackTrace');
    try {
      const { describe } = setup(1, callerStacks);
      const describeFromDeviceCode = (): Promise<unknown> => firstValueFrom(describe({ jobId: 'job-1' }));
      const pending = describeFromDeviceCode().catch((e: unknown) => e);
      expect(capture).not.toHaveBeenCalled();
      const error = await pending;
      expect(error).toBeInstanceOf(RequestTimeoutError);
      expect(error instanceof Error ? error.stack : '').not.toContain('describeFromDeviceCode');
    } finally {
      capture.mockRestore();
    }
  });

  it('request - a read-only or lower Error.stackTraceLimit is respected, never a synchronous throw', async () => {
    const original = Object.getOwnPropertyDescriptor(Error, 'stackTraceLimit');
    try {
      Object.defineProperty(Error, 'stackTraceLimit', { value: 2, writable: false, configurable: true });
      const { describe } = setup(1, true);
      const error = await firstValueFrom(describe({ jobId: 'job-1' })).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RequestTimeoutError);
      expect(Error.stackTraceLimit).toBe(2);
      Object.defineProperty(Error, 'stackTraceLimit', { value: 0, writable: true, configurable: true });
      const second = await firstValueFrom(setup(1, true).describe({ jobId: 'job-1' })).catch((e: unknown) => e);
      expect(second).toBeInstanceOf(RequestTimeoutError);
      expect(Error.stackTraceLimit).toBe(0);
    } finally {
      if (original !== undefined) Object.defineProperty(Error, 'stackTraceLimit', original);
    }
  });

  it('request - a rejection becomes RejectedError with code and executionState', () => {
    runMarbles(({ expectObservable, schedule }) => {
      const { transport, describe, callAt } = setup();
      const executionState = { status: 'SUCCEEDED', versionNumber: 3 } as const;
      schedule(() => {
        transport.reply(callAt(0), 'rejected', rejectedPayload('tok-1', 'TerminalStateReached', { executionState }));
      }, 3);
      expectObservable(describe({ jobId: 'job-1' })).toBe(
        '---#',
        undefined,
        new RejectedError({
          operation: 'describeJobExecution',
          code: 'TerminalStateReached',
          message: 'TerminalStateReached (test)',
          clientToken: 'tok-1',
          executionState,
        }),
      );
    });
  });

  it('request - an accepted reply that fails its codec is a DecodeError with path and payload', () => {
    runMarbles(({ expectObservable, schedule }) => {
      const { transport, describe, callAt } = setup();
      const body = { clientToken: 'tok-1', timestamp: 1, execution: { jobId: 'job-1', status: 'DONE' } };
      schedule(() => {
        transport.reply(callAt(0), 'accepted', body);
      }, 1);
      expectObservable(describe({ jobId: 'job-1' })).toBe(
        '-#',
        undefined,
        new DecodeError({
          operation: 'describeJobExecution',
          codec: 'DescribeJobExecutionResponse',
          issues: ['execution.status: expected JobExecutionStatus, got "DONE"'],
          payload: JSON.stringify(body),
        }),
      );
    });
  });

  it('request - a reply that is not JSON is a DecodeError', () => {
    runMarbles(({ expectObservable, schedule }) => {
      const { transport, describe, callAt } = setup();
      schedule(() => {
        transport.reply(callAt(0), 'accepted', '{"clientToken":"tok-1",');
      }, 1);
      expectObservable(describe({ jobId: 'job-1' })).toBe(
        '-#',
        undefined,
        new DecodeError({
          operation: 'describeJobExecution',
          codec: 'DescribeJobExecutionResponse',
          issues: [`(root): not JSON: ${jsonErrorOf('{"clientToken":"tok-1",')}`],
          payload: '{"clientToken":"tok-1",',
        }),
      );
    });
  });

  it('request - retry() re-sends with a new token', () => {
    runMarbles(({ expectObservable, schedule }) => {
      const { transport, describe, callAt } = setup(100);
      schedule(() => {
        transport.reply(callAt(1), 'accepted', acceptedPayload('tok-2', {}));
      }, 150);
      expectObservable(describe({ jobId: '$next' }).pipe(retry(1))).toBe('150ms (a|)', {
        a: { clientToken: 'tok-2', timestamp: new Date(1_719_940_994_000) },
      });
      schedule(() => {
        expect(transport.calls.map((call) => call.clientToken)).toEqual(['tok-1', 'tok-2']);
      }, 151);
    });
  });

  it('request - an invalid request is InvalidRequestError and nothing is sent', () => {
    runMarbles(({ expectObservable }) => {
      const { transport, describe } = setup();
      expectObservable(describe({ jobId: 'a/b' })).toBe(
        '#',
        undefined,
        new InvalidRequestError(['jobId: expected JobIdOrNext, got "a/b"'], { operation: 'describeJobExecution' }),
      );
      expect(transport.calls).toHaveLength(0);
    });
  });
});
