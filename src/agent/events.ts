import type { JobExecutionStatus } from '../codecs/job-execution';
import type { JobId, StatusDetails } from '../codecs/primitives';
import type { JobsError } from '../errors';

/**
 * What {@link runJobs} emits, for UIs and logs. Every event about an execution names it by `jobId` and
 * `executionNumber`. Terminal events (`succeeded`, `failed`, `rejected`) are emitted when the outcome is
 * decided and journaled; `reported` follows once the service accepted it.
 */

/** Fields of every event about one execution. */
export interface ExecutionRef {
  /** The job. */
  readonly jobId: JobId;
  /** Which execution of it on this thing (a retried job gets a new number). */
  readonly executionNumber: number;
}

/** A runner event. */
export type RunnerEvent =
  | (ExecutionRef & { readonly kind: 'started'; readonly handler: string })
  | (ExecutionRef & {
      readonly kind: 'resumed';
      readonly handler: string;
      /** The checkpoint the handler continues from. */
      readonly checkpoint: unknown;
    })
  | (ExecutionRef & {
      readonly kind: 'progress';
      readonly percent: number | undefined;
      readonly step: string | undefined;
      /** The details as encoded for the service. */
      readonly statusDetails: StatusDetails;
    })
  | (ExecutionRef & { readonly kind: 'succeeded'; readonly statusDetails: StatusDetails })
  | (ExecutionRef & { readonly kind: 'failed'; readonly reason: string; readonly statusDetails: StatusDetails })
  | (ExecutionRef & { readonly kind: 'rejected'; readonly reason: string; readonly statusDetails: StatusDetails })
  | (ExecutionRef & {
      readonly kind: 'canceled';
      /** What the service says now: CANCELED, REMOVED, TIMED_OUT, or another terminal status set elsewhere. */
      readonly status: JobExecutionStatus;
    })
  | (ExecutionRef & {
      readonly kind: 'reported';
      /** The status the service accepted. */
      readonly status: JobExecutionStatus;
      /** Attempts it took (retries after throttling, timeouts, disconnects). */
      readonly attempts: number;
    })
  /** StartNext found nothing to do: the runner waits for the next notification, reconnect or poll. */
  | { readonly kind: 'idle' }
  | {
      readonly kind: 'error';
      /** Something went wrong that the runner survives (it retries, or moves on); never a crash. */
      readonly error: JobsError;
      readonly jobId?: JobId;
      readonly executionNumber?: number;
    };

/** The `kind`s of {@link RunnerEvent}. */
export type RunnerEventKind = RunnerEvent['kind'];
