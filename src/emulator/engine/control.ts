import { isTerminalStatus } from '../../codecs/job-execution';
import { isThingName } from '../../codecs/primitives';
import { completeJobIfDone, queueExecution, setStatus } from './lifecycle';
import { findExecution, withNotifications, type EngineState } from './state';
import type { ExecutionRecord, JobRecord, RetryCriteria } from './types';

/** The control-plane operations the emulator supports, on the engine state (AWS IoT `iot` API subset). */

/** A control-plane failure: the AWS exception name and its HTTP status. */
export interface ControlError {
  readonly ok: false;
  readonly exception: string;
  readonly status: number;
  readonly message: string;
}

/** The outcome of a control-plane call. */
export type ControlResult<T> = { readonly ok: true; readonly value: T } | ControlError;

const fail = (exception: string, status: number, message: string): ControlError => ({ ok: false, exception, status, message });
const notFound = (what: string): ControlError => fail('ResourceNotFoundException', 404, `${what} does not exist`);

/** CreateJob parameters (the document as a string; targets as thing ARNs). */
export interface CreateJobParams {
  readonly jobId: string;
  readonly targets: readonly string[];
  readonly document: string;
  readonly targetSelection?: 'SNAPSHOT' | 'CONTINUOUS';
  readonly description?: string;
  readonly inProgressTimeoutInMinutes?: number;
  readonly retryCriteria?: readonly RetryCriteria[];
}

const thingArn = /^arn:aws[a-z-]*:iot:[a-z0-9-]+:\d{12}:thing\/(.+)$/;

/** CreateJob: one execution per target thing (things are created on first use). */
export const createJob = (state: EngineState, params: CreateJobParams): ControlResult<JobRecord> => {
  if (!/^[a-zA-Z0-9_-]{1,64}$/.test(params.jobId)) return fail('InvalidRequestException', 400, `Invalid jobId ${params.jobId}`);
  if (state.jobs.has(params.jobId)) return fail('ResourceAlreadyExistsException', 409, `Job ${params.jobId} already exists`);
  if (params.document.length > 32_768) return fail('InvalidRequestException', 400, 'Job document exceeds 32768 characters');
  const things: string[] = [];
  for (const target of params.targets) {
    const name = thingArn.exec(target)?.[1];
    if (name === undefined || !isThingName(name)) {
      return fail('InvalidRequestException', 400, `Target ${target} is not a thing ARN (thing groups are not emulated)`);
    }
    things.push(name);
  }
  if (things.length === 0) return fail('InvalidRequestException', 400, 'A job needs at least one target');
  const now = state.now();
  const job: JobRecord = {
    jobId: params.jobId,
    jobArn: `arn:aws:iot:${state.options.region}:${state.options.accountId}:job/${params.jobId}`,
    document: params.document,
    targets: [...params.targets],
    targetSelection: params.targetSelection ?? 'SNAPSHOT',
    retryCriteria: params.retryCriteria ?? [],
    status: 'IN_PROGRESS',
    createdAt: now,
    lastUpdatedAt: now,
    ...(params.description === undefined ? {} : { description: params.description }),
    ...(params.inProgressTimeoutInMinutes === undefined ? {} : { inProgressTimeoutInMinutes: params.inProgressTimeoutInMinutes }),
  };
  state.jobs.set(job.jobId, job);
  for (const thingName of new Set(things)) withNotifications(state, thingName, () => queueExecution(state, job, thingName));
  return { ok: true, value: job };
};

/** Every execution of a job, on every thing. */
export const executionsOfJob = (state: EngineState, jobId: string): ExecutionRecord[] =>
  [...state.executions.values()].flat().filter((e) => e.jobId === jobId);

/** CancelJob: QUEUED executions are canceled; IN_PROGRESS ones too with `force`. */
export const cancelJob = (
  state: EngineState,
  jobId: string,
  options: { force?: boolean; reasonCode?: string; comment?: string },
): ControlResult<JobRecord> => {
  const job = state.jobs.get(jobId);
  if (job === undefined) return notFound(`Job ${jobId}`);
  if (job.status !== 'IN_PROGRESS') return fail('InvalidStateTransitionException', 409, `Job ${jobId} is ${job.status}`);
  job.status = 'CANCELED';
  job.lastUpdatedAt = state.now();
  if (options.force === true) job.forceCanceled = true;
  if (options.reasonCode !== undefined) job.reasonCode = options.reasonCode;
  if (options.comment !== undefined) job.comment = options.comment;
  for (const e of executionsOfJob(state, jobId)) {
    if (e.status === 'QUEUED' || (e.status === 'IN_PROGRESS' && options.force === true)) {
      withNotifications(state, e.thingName, () => {
        if (e.status === 'IN_PROGRESS') e.forceCanceled = true;
        e.versionNumber += 1;
        setStatus(state, e, 'CANCELED');
      });
    }
  }
  return { ok: true, value: job };
};

/** DeleteJob: removes the job and its executions; refused while executions are IN_PROGRESS unless `force`. */
export const deleteJob = (state: EngineState, jobId: string, force: boolean): ControlResult<undefined> => {
  const job = state.jobs.get(jobId);
  if (job === undefined) return notFound(`Job ${jobId}`);
  const executions = executionsOfJob(state, jobId);
  // As AWS documents DeleteJob: without force, only a job in a terminal state (COMPLETED or CANCELED).
  if (!force && job.status !== 'COMPLETED' && job.status !== 'CANCELED') {
    return fail('InvalidStateTransitionException', 409, `Job ${jobId} is ${job.status}; only a COMPLETED or CANCELED job can be deleted without force`);
  }
  for (const thingName of new Set(executions.map((e) => e.thingName))) {
    withNotifications(state, thingName, () => {
      state.executions.set(thingName, (state.executions.get(thingName) ?? []).filter((e) => e.jobId !== jobId));
    });
  }
  state.jobs.delete(jobId);
  return { ok: true, value: undefined };
};

/** DescribeJobExecution (control plane). */
export const describeExecution = (
  state: EngineState,
  jobId: string,
  thingName: string,
  executionNumber?: number,
): ControlResult<ExecutionRecord> => {
  const e = findExecution(state, thingName, jobId, executionNumber);
  return e === undefined ? notFound(`Execution of job ${jobId} on ${thingName}`) : { ok: true, value: e };
};

/** CancelJobExecution: a QUEUED execution, or an IN_PROGRESS one with `force`. */
export const cancelExecution = (
  state: EngineState,
  jobId: string,
  thingName: string,
  options: { force?: boolean; expectedVersion?: number; statusDetails?: Record<string, string> },
): ControlResult<undefined> => {
  const e = findExecution(state, thingName, jobId);
  if (e === undefined) return notFound(`Execution of job ${jobId} on ${thingName}`);
  if (options.expectedVersion !== undefined && options.expectedVersion !== e.versionNumber) {
    return fail('VersionConflictException', 409, `expectedVersion ${options.expectedVersion} does not match ${e.versionNumber}`);
  }
  if (isTerminalStatus(e.status)) return fail('InvalidStateTransitionException', 409, `Execution is already ${e.status}`);
  if (e.status === 'IN_PROGRESS' && options.force !== true) {
    return fail('InvalidStateTransitionException', 409, 'Execution is IN_PROGRESS; use force to cancel it');
  }
  withNotifications(state, thingName, () => {
    if (e.status === 'IN_PROGRESS') e.forceCanceled = true;
    if (options.statusDetails !== undefined) e.statusDetails = { ...options.statusDetails };
    e.versionNumber += 1;
    setStatus(state, e, 'CANCELED');
  });
  return { ok: true, value: undefined };
};

/** DeleteJobExecution: removes one execution; refused while it is not terminal unless `force`. */
export const deleteExecution = (
  state: EngineState,
  jobId: string,
  thingName: string,
  executionNumber: number,
  force: boolean,
): ControlResult<undefined> => {
  const e = findExecution(state, thingName, jobId, executionNumber);
  if (e === undefined) return notFound(`Execution ${executionNumber} of job ${jobId} on ${thingName}`);
  if (!force && !isTerminalStatus(e.status)) {
    return fail('InvalidStateTransitionException', 409, `Execution is ${e.status}; use force to delete it`);
  }
  withNotifications(state, thingName, () => {
    state.executions.set(thingName, (state.executions.get(thingName) ?? []).filter((x) => x !== e));
  });
  completeJobIfDone(state, state.jobs.get(jobId));
  return { ok: true, value: undefined };
};
