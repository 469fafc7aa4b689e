import type { JobExecution, JobExecutionStatus, JobExecutionSummary } from '../../codecs/job-execution';
import type { RejectedErrorCode } from '../../codecs/responses';
import type { JobExecutionsChangedEvent, NextJobExecutionChangedEvent } from '../../codecs/events';

/**
 * The emulator's state and the knobs for the points ../shared/spec/jobs-api.md marks UNCONFIRMED.
 * Times are epoch milliseconds inside the engine; the bindings write whole seconds on the wire.
 */

/** Job-level status, as the control plane reports it. */
export type JobStatus = 'IN_PROGRESS' | 'CANCELED' | 'COMPLETED' | 'DELETION_IN_PROGRESS';

/** `jobExecutionsRetryConfig.criteriaList[]`. */
export interface RetryCriteria {
  readonly failureType: 'FAILED' | 'TIMED_OUT' | 'ALL';
  readonly numberOfRetries: number;
}

/** A job as created on the control plane. */
export interface JobRecord {
  readonly jobId: string;
  readonly jobArn: string;
  /** The document exactly as created (a JSON string). */
  readonly document: string;
  readonly targets: readonly string[];
  readonly targetSelection: 'SNAPSHOT' | 'CONTINUOUS';
  readonly description?: string;
  readonly inProgressTimeoutInMinutes?: number;
  readonly retryCriteria: readonly RetryCriteria[];
  status: JobStatus;
  readonly createdAt: number;
  lastUpdatedAt: number;
  completedAt?: number;
  forceCanceled?: boolean;
  reasonCode?: string;
  comment?: string;
}

/** One execution of a job on a thing. */
export interface ExecutionRecord {
  readonly jobId: string;
  readonly thingName: string;
  readonly executionNumber: number;
  /** Creation order, to break ties between equal `queuedAt`. */
  readonly sequence: number;
  status: JobExecutionStatus;
  statusDetails: Record<string, string>;
  versionNumber: number;
  queuedAt: number;
  startedAt?: number;
  lastUpdatedAt: number;
  /** Absolute deadline of the step timer. */
  stepDeadline?: number;
  /** Absolute deadline of the job's in-progress timer. */
  inProgressDeadline?: number;
  forceCanceled?: boolean;
  /** Retries used so far for this job on this thing (FAILED and TIMED_OUT together). */
  retries: number;
}

/** A notification the engine asks the MQTT binding to publish. */
export type Notification =
  | { readonly thingName: string; readonly event: 'jobExecutionsChanged'; readonly payload: JobExecutionsChangedEvent }
  | { readonly thingName: string; readonly event: 'nextJobExecutionChanged'; readonly payload: NextJobExecutionChangedEvent };

/** A device-API rejection (MQTT code; the HTTP binding maps it to an exception). */
export interface Rejection {
  readonly ok: false;
  readonly code: RejectedErrorCode;
  readonly message: string;
  readonly executionState?: { status: JobExecutionStatus; statusDetails?: Record<string, string>; versionNumber: number };
}

/** The outcome of an engine call. */
export type Result<T> = { readonly ok: true; readonly value: T } | Rejection;

/** What Describe, StartNext and `notify-next` carry: an execution with its parsed job document. */
export type ExecutionView = JobExecution;

/** A summary as GetPending and `notify` list it. */
export type SummaryView = JobExecutionSummary;

/** Behaviour knobs for points the spec leaves open. Every default is documented in docs/emulator.md. */
export interface EngineOptions {
  /** Most executions GetPending and `notify` list. Default 10. */
  readonly maxPendingListed?: number;
  /** When Describe answers TerminalStateReached. Default `canceled-job`: a terminal execution of a canceled job. */
  readonly terminalStateReached?: 'canceled-job' | 'never';
  /** Whether a device may move QUEUED straight to SUCCEEDED or FAILED. Default true. */
  readonly allowQueuedToTerminal?: boolean;
  /** Whether an update's statusDetails replace or merge into the stored ones. Default `replace`. */
  readonly statusDetailsUpdate?: 'replace' | 'merge';
  /** Whether a retried execution gets a new executionNumber. Default true (its versionNumber restarts at 1). */
  readonly retryNewExecutionNumber?: boolean;
  /** Most retries per job and thing, FAILED and TIMED_OUT together. Default 10. */
  readonly maxRetries?: number;
  /** Account and region used in ARNs. Defaults 123456789012 and us-east-1. */
  readonly accountId?: string;
  /** See `accountId`. */
  readonly region?: string;
}
