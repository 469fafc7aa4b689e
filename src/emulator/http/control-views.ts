import type { JobExecutionStatus } from '../../codecs/job-execution';
import type { ExecutionRecord, JobRecord } from '../engine/types';

/**
 * The engine's records as the control plane returns them (the `iot` API's Job, JobSummary, JobExecution and
 * JobExecutionSummary shapes). Timestamps are epoch seconds with milliseconds as a fraction, the restJson1
 * default the SDK parses (`_parseEpochTimestamp`); statusDetails are wrapped in `detailsMap`.
 */

const seconds = (ms: number): number => ms / 1000;


/** The ARN of `thingName`: the job's target naming it (any account or region), else one beside the job's ARN. */
export const thingArnOf = (job: JobRecord | undefined, thingName: string): string => {
  const target = job?.targets.find((arn) => arn.endsWith(`:thing/${thingName}`));
  if (target !== undefined) return target;
  const prefix = job?.jobArn.replace(/:job\/[^/]*$/, '') ?? 'arn:aws:iot:us-east-1:123456789012';
  return `${prefix}:thing/${thingName}`;
};

/** The newest execution of each thing (a retried execution replaces the one it retries). */
const latestPerThing = (executions: readonly ExecutionRecord[]): ExecutionRecord[] => {
  const latest = new Map<string, ExecutionRecord>();
  for (const e of executions) {
    const seen = latest.get(e.thingName);
    if (seen === undefined || e.executionNumber >= seen.executionNumber) latest.set(e.thingName, e);
  }
  return [...latest.values()];
};

const processCounters: Readonly<Record<JobExecutionStatus, string>> = {
  QUEUED: 'numberOfQueuedThings',
  IN_PROGRESS: 'numberOfInProgressThings',
  SUCCEEDED: 'numberOfSucceededThings',
  FAILED: 'numberOfFailedThings',
  CANCELED: 'numberOfCanceledThings',
  REJECTED: 'numberOfRejectedThings',
  TIMED_OUT: 'numberOfTimedOutThings',
  REMOVED: 'numberOfRemovedThings',
};

/** `jobProcessDetails`: how many things are in each status, counting each thing's newest execution. */
export const jobProcessDetails = (executions: readonly ExecutionRecord[]): Record<string, number> => {
  const counts: Record<string, number> = Object.fromEntries(Object.values(processCounters).map((name) => [name, 0]));
  for (const e of latestPerThing(executions)) {
    const name = processCounters[e.status];
    counts[name] = (counts[name] ?? 0) + 1;
  }
  return counts;
};

/** A Job as DescribeJob returns it. */
export const jobView = (job: JobRecord, executions: readonly ExecutionRecord[]) => ({
  jobArn: job.jobArn,
  jobId: job.jobId,
  targetSelection: job.targetSelection,
  status: job.status,
  ...(job.forceCanceled === undefined ? {} : { forceCanceled: job.forceCanceled }),
  ...(job.reasonCode === undefined ? {} : { reasonCode: job.reasonCode }),
  ...(job.comment === undefined ? {} : { comment: job.comment }),
  targets: [...job.targets],
  ...(job.description === undefined ? {} : { description: job.description }),
  createdAt: seconds(job.createdAt),
  lastUpdatedAt: seconds(job.lastUpdatedAt),
  ...(job.completedAt === undefined ? {} : { completedAt: seconds(job.completedAt) }),
  jobProcessDetails: jobProcessDetails(executions),
  ...(job.inProgressTimeoutInMinutes === undefined ? {} : { timeoutConfig: { inProgressTimeoutInMinutes: job.inProgressTimeoutInMinutes } }),
  ...(job.retryCriteria.length === 0 ? {} : { jobExecutionsRetryConfig: { criteriaList: job.retryCriteria.map((c) => ({ ...c })) } }),
  isConcurrent: false,
});

/** A JobSummary as ListJobs returns it. */
export const jobSummaryView = (job: JobRecord) => ({
  jobArn: job.jobArn,
  jobId: job.jobId,
  targetSelection: job.targetSelection,
  status: job.status,
  createdAt: seconds(job.createdAt),
  lastUpdatedAt: seconds(job.lastUpdatedAt),
  ...(job.completedAt === undefined ? {} : { completedAt: seconds(job.completedAt) }),
  isConcurrent: false,
});

/** A JobExecutionSummary as the ListJobExecutions operations return it. */
export const executionSummaryView = (e: ExecutionRecord) => ({
  status: e.status,
  queuedAt: seconds(e.queuedAt),
  ...(e.startedAt === undefined ? {} : { startedAt: seconds(e.startedAt) }),
  lastUpdatedAt: seconds(e.lastUpdatedAt),
  executionNumber: e.executionNumber,
  retryAttempt: e.retries,
});

/** Whole seconds before the soonest running timer of an IN_PROGRESS execution. */
const secondsBeforeTimedOut = (e: ExecutionRecord, nowMs: number): number | undefined => {
  const deadlines = [e.stepDeadline, e.inProgressDeadline].filter((d): d is number => d !== undefined);
  if (e.status !== 'IN_PROGRESS' || deadlines.length === 0) return undefined;
  return Math.max(0, Math.ceil((Math.min(...deadlines) - nowMs) / 1000));
};

/** A JobExecution as the control plane's DescribeJobExecution returns it. */
export const executionView = (e: ExecutionRecord, job: JobRecord | undefined, nowMs: number) => {
  const timedOutIn = secondsBeforeTimedOut(e, nowMs);
  return {
    jobId: e.jobId,
    status: e.status,
    ...(e.forceCanceled === undefined ? {} : { forceCanceled: e.forceCanceled }),
    ...(Object.keys(e.statusDetails).length === 0 ? {} : { statusDetails: { detailsMap: { ...e.statusDetails } } }),
    thingArn: thingArnOf(job, e.thingName),
    queuedAt: seconds(e.queuedAt),
    ...(e.startedAt === undefined ? {} : { startedAt: seconds(e.startedAt) }),
    lastUpdatedAt: seconds(e.lastUpdatedAt),
    executionNumber: e.executionNumber,
    versionNumber: e.versionNumber,
    ...(timedOutIn === undefined ? {} : { approximateSecondsBeforeTimedOut: timedOutIn }),
  };
};
