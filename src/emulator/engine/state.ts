import { parseJson } from '../../codecs/decode';
import type { JobExecutionState } from '../../codecs/job-execution';
import type { EngineOptions, ExecutionRecord, ExecutionView, JobRecord, Notification, SummaryView } from './types';

/** The engine's whole state, and the views of it the device API returns. */
export interface EngineState {
  readonly options: Required<EngineOptions>;
  readonly jobs: Map<string, JobRecord>;
  /** Executions by thing name, in creation order (terminal ones stay as history). */
  readonly executions: Map<string, ExecutionRecord[]>;
  readonly things: Set<string>;
  sequence: number;
  readonly now: () => number;
  readonly emit: (notification: Notification) => void;
}

/** The defaults of {@link EngineOptions}. */
export const engineDefaults: Required<EngineOptions> = {
  maxPendingListed: 10,
  terminalStateReached: 'canceled-job',
  allowQueuedToTerminal: true,
  statusDetailsUpdate: 'replace',
  retryNewExecutionNumber: true,
  maxRetries: 10,
  accountId: '123456789012',
  region: 'us-east-1',
};

const isPending = (e: ExecutionRecord): boolean => e.status === 'QUEUED' || e.status === 'IN_PROGRESS';

const byQueue = (a: ExecutionRecord, b: ExecutionRecord): number => a.queuedAt - b.queuedAt || a.sequence - b.sequence;

/** The thing's pending executions: IN_PROGRESS first, then QUEUED, each in the order they were queued. */
export const pendingOf = (state: EngineState, thingName: string): ExecutionRecord[] => {
  const all = (state.executions.get(thingName) ?? []).filter(isPending);
  return [...all.filter((e) => e.status === 'IN_PROGRESS').sort(byQueue), ...all.filter((e) => e.status === 'QUEUED').sort(byQueue)];
};

/** Every execution of a thing, newest last. */
export const executionsOf = (state: EngineState, thingName: string): ExecutionRecord[] => {
  const list = state.executions.get(thingName) ?? [];
  state.executions.set(thingName, list);
  return list;
};

/** The execution a request names: the given number, else the latest execution of the job on the thing. */
export const findExecution = (
  state: EngineState,
  thingName: string,
  jobId: string,
  executionNumber?: number,
): ExecutionRecord | undefined => {
  const matching = (state.executions.get(thingName) ?? []).filter((e) => e.jobId === jobId);
  // The newest with that number: a retry keeps its number when `retryNewExecutionNumber` is false.
  return (executionNumber === undefined ? matching : matching.filter((e) => e.executionNumber === executionNumber)).at(-1);
};

const date = (ms: number): Date => new Date(Math.floor(ms / 1000) * 1000);

const parsedDocument = (job: JobRecord | undefined): unknown => {
  if (job === undefined) return undefined;
  const parsed = parseJson(job.document);
  return parsed.ok ? parsed.value : undefined;
};

/** The soonest running timer, in whole seconds from now. */
const secondsBeforeTimedOut = (state: EngineState, e: ExecutionRecord): number | undefined => {
  const deadlines = [e.stepDeadline, e.inProgressDeadline].filter((d): d is number => d !== undefined);
  if (deadlines.length === 0 || e.status !== 'IN_PROGRESS') return undefined;
  return Math.max(0, Math.ceil((Math.min(...deadlines) - state.now()) / 1000));
};

/** An execution as Describe, StartNext and `notify-next` return it. */
export const executionView = (state: EngineState, e: ExecutionRecord, includeJobDocument: boolean): ExecutionView => {
  const timedOutIn = secondsBeforeTimedOut(state, e);
  const document = includeJobDocument ? parsedDocument(state.jobs.get(e.jobId)) : undefined;
  return {
    jobId: e.jobId,
    status: e.status,
    queuedAt: date(e.queuedAt),
    lastUpdatedAt: date(e.lastUpdatedAt),
    versionNumber: e.versionNumber,
    executionNumber: e.executionNumber,
    ...(e.startedAt === undefined ? {} : { startedAt: date(e.startedAt) }),
    ...(Object.keys(e.statusDetails).length === 0 ? {} : { statusDetails: { ...e.statusDetails } }),
    ...(timedOutIn === undefined ? {} : { approximateSecondsBeforeTimedOut: timedOutIn }),
    ...(document === undefined ? {} : { jobDocument: document }),
  };
};

/** An execution as GetPending and `notify` list it. */
export const summaryView = (e: ExecutionRecord): SummaryView => ({
  jobId: e.jobId,
  queuedAt: date(e.queuedAt),
  lastUpdatedAt: date(e.lastUpdatedAt),
  versionNumber: e.versionNumber,
  executionNumber: e.executionNumber,
  ...(e.startedAt === undefined ? {} : { startedAt: date(e.startedAt) }),
});

/** The state part of an execution (Update replies, VersionMismatch and InvalidStateTransition). */
export const stateView = (e: ExecutionRecord): JobExecutionState & { versionNumber: number } => ({
  status: e.status,
  versionNumber: e.versionNumber,
  ...(Object.keys(e.statusDetails).length === 0 ? {} : { statusDetails: { ...e.statusDetails } }),
});

/** The listed part of the pending executions (at most `maxPendingListed`). */
export const listedPending = (state: EngineState, thingName: string): ExecutionRecord[] =>
  pendingOf(state, thingName).slice(0, state.options.maxPendingListed);

// The record itself (`sequence`), not only its job and number, which a retry may keep.
const keyOf = (e: ExecutionRecord | undefined): string => (e === undefined ? '' : `${e.jobId}#${e.executionNumber}#${e.sequence}`);

/**
 * Runs `change` on a thing's executions and publishes what changed, exactly as the service does
 * (../shared/spec/jobs-api.md §2.4): `notify` when the set of pending executions changed (queued, terminal,
 * removed; not QUEUED→IN_PROGRESS), `notify-next` when the execution Describe(`$next`) returns changed.
 */
export const withNotifications = <T>(state: EngineState, thingName: string, change: () => T): T => {
  const before = pendingOf(state, thingName);
  const result = change();
  const after = pendingOf(state, thingName);
  const timestamp = date(state.now());
  const setOf = (list: ExecutionRecord[]): string => list.map(keyOf).sort().join(',');
  if (setOf(before) !== setOf(after)) {
    const listed = after.slice(0, state.options.maxPendingListed);
    const inProgress = listed.filter((e) => e.status === 'IN_PROGRESS').map(summaryView);
    const queued = listed.filter((e) => e.status === 'QUEUED').map(summaryView);
    state.emit({
      thingName,
      event: 'jobExecutionsChanged',
      payload: {
        timestamp,
        jobs: { ...(inProgress.length > 0 ? { IN_PROGRESS: inProgress } : {}), ...(queued.length > 0 ? { QUEUED: queued } : {}) },
      },
    });
  }
  const head = after[0];
  if (keyOf(before[0]) !== keyOf(head)) {
    state.emit({
      thingName,
      event: 'nextJobExecutionChanged',
      payload: { timestamp, ...(head === undefined ? {} : { execution: executionView(state, head, true) }) },
    });
  }
  return result;
};
