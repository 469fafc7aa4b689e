import type * as t from 'io-ts';
import type {
  DescribeJobExecutionRequest,
  StartNextPendingJobExecutionRequest,
  UpdateJobExecutionRequest,
} from '../../codecs/requests';
import * as control from './control';
import * as device from './device';
import { expireTimers, nextDeadline } from './lifecycle';
import { engineDefaults, type EngineState } from './state';
import type { EngineOptions, ExecutionRecord, JobRecord, Notification } from './types';

/**
 * The emulated AWS IoT Jobs service: a pure, deterministic state machine. Time comes from `now`;
 * notifications go to `emit`; timers are deadlines the caller fires with `expireTimers()` at
 * `nextDeadline()` (the emulator does it on an RxJS scheduler, tests on virtual time).
 */
export interface Engine {
  readonly getPendingJobExecutions: (thingName: string) => ReturnType<typeof device.getPending>;
  readonly startNextPendingJobExecution: (
    thingName: string,
    request: t.TypeOf<typeof StartNextPendingJobExecutionRequest>,
  ) => ReturnType<typeof device.startNext>;
  readonly describeJobExecution: (thingName: string, request: t.TypeOf<typeof DescribeJobExecutionRequest>) => ReturnType<typeof device.describe>;
  readonly updateJobExecution: (thingName: string, request: t.TypeOf<typeof UpdateJobExecutionRequest>) => ReturnType<typeof device.update>;
  readonly createJob: (params: control.CreateJobParams) => control.ControlResult<JobRecord>;
  readonly cancelJob: (jobId: string, options: Parameters<typeof control.cancelJob>[2]) => control.ControlResult<JobRecord>;
  readonly deleteJob: (jobId: string, force: boolean) => control.ControlResult<undefined>;
  readonly describeJob: (jobId: string) => control.ControlResult<JobRecord>;
  readonly listJobs: () => JobRecord[];
  readonly listExecutionsForJob: (jobId: string) => control.ControlResult<ExecutionRecord[]>;
  readonly listExecutionsForThing: (thingName: string) => ExecutionRecord[];
  readonly describeExecution: (jobId: string, thingName: string, executionNumber?: number) => control.ControlResult<ExecutionRecord>;
  readonly cancelExecution: (
    jobId: string,
    thingName: string,
    options: Parameters<typeof control.cancelExecution>[3],
  ) => control.ControlResult<undefined>;
  readonly deleteExecution: (jobId: string, thingName: string, executionNumber: number, force: boolean) => control.ControlResult<undefined>;
  /** The soonest step or in-progress deadline (epoch ms), if any timer runs. */
  readonly nextDeadline: () => number | undefined;
  /** Times out what has expired by now. */
  readonly expireTimers: () => void;
  /** The whole state, for persistence (`--state FILE`). */
  readonly snapshot: () => EngineSnapshot;
}

/** What {@link Engine.snapshot} returns and {@link createEngine} restores. */
export interface EngineSnapshot {
  readonly version: 1;
  readonly sequence: number;
  readonly jobs: readonly JobRecord[];
  readonly executions: readonly ExecutionRecord[];
}

/** Options of {@link createEngine}. */
export interface CreateEngineOptions extends EngineOptions {
  /** The clock, epoch milliseconds. */
  readonly now: () => number;
  /** Receives every notification to publish. */
  readonly emit: (notification: Notification) => void;
  /** A state to start from. */
  readonly restore?: EngineSnapshot;
}

/** Creates an {@link Engine}. */
export const createEngine = (options: CreateEngineOptions): Engine => {
  const { now, emit, restore, ...knobs } = options;
  const state: EngineState = {
    options: { ...engineDefaults, ...knobs },
    jobs: new Map((restore?.jobs ?? []).map((job) => [job.jobId, { ...job }])),
    executions: new Map(),
    things: new Set(),
    sequence: restore?.sequence ?? 0,
    now,
    emit,
  };
  for (const e of restore?.executions ?? []) {
    state.things.add(e.thingName);
    state.executions.set(e.thingName, [...(state.executions.get(e.thingName) ?? []), { ...e }]);
  }
  const job = (jobId: string): control.ControlResult<JobRecord> => {
    const found = state.jobs.get(jobId);
    return found === undefined ? { ok: false, exception: 'ResourceNotFoundException', status: 404, message: `Job ${jobId} does not exist` } : { ok: true, value: found };
  };
  return {
    getPendingJobExecutions: (thingName) => device.getPending(state, thingName),
    startNextPendingJobExecution: (thingName, request) => device.startNext(state, thingName, request),
    describeJobExecution: (thingName, request) => device.describe(state, thingName, request),
    updateJobExecution: (thingName, request) => device.update(state, thingName, request),
    createJob: (params) => control.createJob(state, params),
    cancelJob: (jobId, cancel) => control.cancelJob(state, jobId, cancel),
    deleteJob: (jobId, force) => control.deleteJob(state, jobId, force),
    describeJob: job,
    listJobs: () => [...state.jobs.values()],
    listExecutionsForJob: (jobId) => {
      const found = job(jobId);
      return found.ok ? { ok: true, value: control.executionsOfJob(state, jobId) } : found;
    },
    listExecutionsForThing: (thingName) => [...(state.executions.get(thingName) ?? [])],
    describeExecution: (jobId, thingName, executionNumber) => control.describeExecution(state, jobId, thingName, executionNumber),
    cancelExecution: (jobId, thingName, cancel) => control.cancelExecution(state, jobId, thingName, cancel),
    deleteExecution: (jobId, thingName, executionNumber, force) => control.deleteExecution(state, jobId, thingName, executionNumber, force),
    nextDeadline: () => nextDeadline(state),
    expireTimers: () => {
      expireTimers(state);
    },
    snapshot: () => ({
      version: 1,
      sequence: state.sequence,
      jobs: [...state.jobs.values()].map((j) => ({ ...j })),
      executions: [...state.executions.values()].flat().map((e) => ({ ...e, statusDetails: { ...e.statusDetails } })),
    }),
  };
};
