import { isTerminalStatus, type JobExecutionStatus } from '../../codecs/job-execution';
import { executionsOf, withNotifications, type EngineState } from './state';
import type { ExecutionRecord, JobRecord } from './types';

/** What happens around a status change: timers, retries, job completion. */

const minutes = (n: number): number => n * 60_000;

/** Queues a new execution of `job` on `thingName`. */
export const queueExecution = (state: EngineState, job: JobRecord, thingName: string, executionNumber = 1, retries = 0): ExecutionRecord => {
  const now = state.now();
  state.sequence += 1;
  const execution: ExecutionRecord = {
    jobId: job.jobId,
    thingName,
    executionNumber,
    sequence: state.sequence,
    status: 'QUEUED',
    statusDetails: {},
    versionNumber: 1,
    queuedAt: now,
    lastUpdatedAt: now,
    retries,
  };
  state.things.add(thingName);
  executionsOf(state, thingName).push(execution);
  return execution;
};

/** Marks the job COMPLETED once every execution of a snapshot job is terminal. */
export const completeJobIfDone = (state: EngineState, job: JobRecord | undefined): void => {
  if (job === undefined || job.status !== 'IN_PROGRESS' || job.targetSelection !== 'SNAPSHOT') return;
  const all = [...state.executions.values()].flat().filter((e) => e.jobId === job.jobId);
  if (all.length > 0 && all.every((e) => isTerminalStatus(e.status))) {
    job.status = 'COMPLETED';
    job.completedAt = state.now();
    job.lastUpdatedAt = state.now();
  }
};

/** Re-queues a FAILED or TIMED_OUT execution when the job's retry config allows it. */
const retryIfConfigured = (state: EngineState, job: JobRecord | undefined, e: ExecutionRecord): boolean => {
  if (job === undefined || job.status !== 'IN_PROGRESS' || (e.status !== 'FAILED' && e.status !== 'TIMED_OUT')) return false;
  const allowed = job.retryCriteria
    .filter((c) => c.failureType === 'ALL' || c.failureType === e.status)
    .reduce((most, c) => Math.max(most, c.numberOfRetries), 0);
  if (e.retries >= Math.min(allowed, state.options.maxRetries)) return false;
  const executionNumber = state.options.retryNewExecutionNumber ? e.executionNumber + 1 : e.executionNumber;
  queueExecution(state, job, e.thingName, executionNumber, e.retries + 1);
  return true;
};

/** Moves an execution to `status`, with the side effects of the service: timers, retries, job completion. */
export const setStatus = (state: EngineState, e: ExecutionRecord, status: JobExecutionStatus): void => {
  const now = state.now();
  const job = state.jobs.get(e.jobId);
  if (status === 'IN_PROGRESS' && e.status === 'QUEUED') {
    e.startedAt = now;
    if (job?.inProgressTimeoutInMinutes !== undefined) e.inProgressDeadline = now + minutes(job.inProgressTimeoutInMinutes);
  }
  e.status = status;
  e.lastUpdatedAt = now;
  if (isTerminalStatus(status)) {
    delete e.stepDeadline;
    delete e.inProgressDeadline;
    if (!retryIfConfigured(state, job, e)) completeJobIfDone(state, job);
  }
};

/** Starts (or with -1 cancels) the step timer, capped by the in-progress timer's deadline. */
export const setStepTimer = (state: EngineState, e: ExecutionRecord, stepTimeoutInMinutes: number | undefined): void => {
  if (stepTimeoutInMinutes === undefined) return;
  if (stepTimeoutInMinutes === -1) {
    delete e.stepDeadline;
    return;
  }
  const deadline = state.now() + minutes(stepTimeoutInMinutes);
  e.stepDeadline = e.inProgressDeadline === undefined ? deadline : Math.min(deadline, e.inProgressDeadline);
};

/** The soonest timer of any execution, or undefined when none runs. */
export const nextDeadline = (state: EngineState): number | undefined => {
  const deadlines = [...state.executions.values()]
    .flat()
    .flatMap((e) => [e.stepDeadline, e.inProgressDeadline])
    .filter((d): d is number => d !== undefined);
  return deadlines.length === 0 ? undefined : Math.min(...deadlines);
};

/** Times out every IN_PROGRESS execution whose timer has expired; publishes the notifications. */
export const expireTimers = (state: EngineState): void => {
  const now = state.now();
  for (const [thingName, list] of state.executions) {
    const expired = list.filter(
      (e) => e.status === 'IN_PROGRESS' && [e.stepDeadline, e.inProgressDeadline].some((d) => d !== undefined && d <= now),
    );
    if (expired.length === 0) continue;
    withNotifications(state, thingName, () => {
      for (const e of expired) setStatus(state, e, 'TIMED_OUT');
    });
  }
};
