import type * as t from 'io-ts';
import { isTerminalStatus } from '../../codecs/job-execution';
import type {
  DescribeJobExecutionRequest,
  StartNextPendingJobExecutionRequest,
  UpdateJobExecutionRequest,
} from '../../codecs/requests';
import { setStatus, setStepTimer } from './lifecycle';
import {
  executionView,
  findExecution,
  listedPending,
  pendingOf,
  stateView,
  summaryView,
  withNotifications,
  type EngineState,
} from './state';
import type { ExecutionView, Rejection, Result, SummaryView } from './types';

/** The four device operations on the engine state (../shared/spec/jobs-api.md §2.2, §4.2). */

const reject = (code: Rejection['code'], message: string, executionState?: Rejection['executionState']): Rejection => ({
  ok: false,
  code,
  message,
  ...(executionState === undefined ? {} : { executionState }),
});

/** GetPendingJobExecutions. */
export const getPending = (state: EngineState, thingName: string): { inProgressJobs: SummaryView[]; queuedJobs: SummaryView[] } => {
  const listed = listedPending(state, thingName);
  return {
    inProgressJobs: listed.filter((e) => e.status === 'IN_PROGRESS').map(summaryView),
    queuedJobs: listed.filter((e) => e.status === 'QUEUED').map(summaryView),
  };
};

/** StartNextPendingJobExecution: an IN_PROGRESS head is returned unchanged; a QUEUED head is started. */
export const startNext = (
  state: EngineState,
  thingName: string,
  request: t.TypeOf<typeof StartNextPendingJobExecutionRequest>,
): Result<{ execution?: ExecutionView }> =>
  withNotifications(state, thingName, () => {
    const next = pendingOf(state, thingName)[0];
    if (next === undefined) return { ok: true, value: {} };
    if (next.status === 'QUEUED') {
      setStatus(state, next, 'IN_PROGRESS');
      next.versionNumber += 1;
      if (request.statusDetails !== undefined) next.statusDetails = { ...request.statusDetails };
      setStepTimer(state, next, request.stepTimeoutInMinutes);
    }
    return { ok: true, value: { execution: executionView(state, next, true) } };
  });

/** DescribeJobExecution; `$next` answers with no execution when nothing is pending. */
export const describe = (
  state: EngineState,
  thingName: string,
  request: t.TypeOf<typeof DescribeJobExecutionRequest>,
): Result<{ execution?: ExecutionView }> => {
  const includeJobDocument = request.includeJobDocument ?? true;
  if (request.jobId === '$next') {
    const next = pendingOf(state, thingName)[0];
    return { ok: true, value: next === undefined ? {} : { execution: executionView(state, next, includeJobDocument) } };
  }
  const execution = findExecution(state, thingName, request.jobId, request.executionNumber);
  if (execution === undefined) return reject('ResourceNotFound', `No job execution ${request.jobId} for thing ${thingName}`);
  const job = state.jobs.get(execution.jobId);
  if (state.options.terminalStateReached === 'canceled-job' && job?.status === 'CANCELED' && isTerminalStatus(execution.status)) {
    return reject('TerminalStateReached', `Job ${request.jobId} is canceled and its execution is ${execution.status}`);
  }
  return { ok: true, value: { execution: executionView(state, execution, includeJobDocument) } };
};

/** UpdateJobExecution: version check, state machine, step timer, statusDetails. */
export const update = (
  state: EngineState,
  thingName: string,
  request: t.TypeOf<typeof UpdateJobExecutionRequest>,
): Result<{ executionState?: ExecutionViewState; jobDocument?: unknown }> =>
  withNotifications(state, thingName, () => {
    const execution = findExecution(state, thingName, request.jobId, request.executionNumber);
    if (execution === undefined) return reject('ResourceNotFound', `No job execution ${request.jobId} for thing ${thingName}`);
    if (request.expectedVersion !== undefined && request.expectedVersion !== execution.versionNumber) {
      return reject(
        'VersionMismatch',
        `expectedVersion ${request.expectedVersion} does not match version ${execution.versionNumber}`,
        stateView(execution),
      );
    }
    const from = execution.status;
    const allowed =
      !isTerminalStatus(from) &&
      (from === 'IN_PROGRESS' || request.status === 'IN_PROGRESS' || request.status === 'REJECTED' || state.options.allowQueuedToTerminal);
    if (!allowed) {
      return reject('InvalidStateTransition', `Cannot update execution from ${from} to ${request.status}`, stateView(execution));
    }
    if (request.statusDetails !== undefined) {
      execution.statusDetails =
        state.options.statusDetailsUpdate === 'merge' ? { ...execution.statusDetails, ...request.statusDetails } : { ...request.statusDetails };
    }
    execution.versionNumber += 1;
    setStatus(state, execution, request.status);
    if (request.status === 'IN_PROGRESS') setStepTimer(state, execution, request.stepTimeoutInMinutes);
    const document = request.includeJobDocument === true ? executionView(state, execution, true).jobDocument : undefined;
    return {
      ok: true,
      value: {
        ...(request.includeJobExecutionState === true ? { executionState: stateView(execution) } : {}),
        ...(document === undefined ? {} : { jobDocument: document }),
      },
    };
  });

/** The state part of an execution in an Update reply. */
export type ExecutionViewState = ReturnType<typeof stateView>;
