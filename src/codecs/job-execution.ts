import * as t from 'io-ts';
import { onePass } from './one-pass';
import { EpochSeconds, Long, StatusDetailsMap } from './primitives';

/**
 * The shared shapes of the Jobs device API (../shared/spec/jobs-api.md §2.3), as tolerant readers: fields
 * every captured payload has are required, the rest optional, unknown extra fields pass through.
 */

/** Every status a job execution can have. */
export const JobExecutionStatus = t.keyof(
  {
    QUEUED: null,
    IN_PROGRESS: null,
    SUCCEEDED: null,
    FAILED: null,
    TIMED_OUT: null,
    REJECTED: null,
    REMOVED: null,
    CANCELED: null,
  },
  'JobExecutionStatus',
);
export type JobExecutionStatus = t.TypeOf<typeof JobExecutionStatus>;

/** The statuses a device may send in UpdateJobExecution. */
export const DeviceStatus = t.keyof({ IN_PROGRESS: null, SUCCEEDED: null, FAILED: null, REJECTED: null }, 'DeviceStatus');
export type DeviceStatus = t.TypeOf<typeof DeviceStatus>;

/** Terminal statuses: no further update is accepted. */
export const terminalStatuses: ReadonlySet<JobExecutionStatus> = new Set([
  'SUCCEEDED',
  'FAILED',
  'TIMED_OUT',
  'REJECTED',
  'REMOVED',
  'CANCELED',
]);

/** True when an execution in `status` can no longer change. */
export const isTerminalStatus = (status: JobExecutionStatus): boolean => terminalStatuses.has(status);

/** A job document codec: decodes the parsed document into the caller's type. */
export type DocumentCodec<D> = t.Type<D, unknown>;

/** The state part of an execution (UpdateJobExecution replies and rejections). */
export const JobExecutionState = onePass(
  t.intersection(
    [t.type({ status: JobExecutionStatus }), t.partial({ statusDetails: StatusDetailsMap, versionNumber: Long })],
    'JobExecutionState',
  ),
);
export type JobExecutionState = t.TypeOf<typeof JobExecutionState>;

/** One pending execution as GetPendingJobExecutions and `notify` list it (no status: the list says it). */
export const JobExecutionSummary = onePass(
  t.intersection(
    [
      t.type({ jobId: t.string }),
      t.partial({
        queuedAt: EpochSeconds,
        startedAt: EpochSeconds,
        lastUpdatedAt: EpochSeconds,
        versionNumber: Long,
        executionNumber: Long,
      }),
    ],
    'JobExecutionSummary',
  ),
);
export type JobExecutionSummary = t.TypeOf<typeof JobExecutionSummary>;

/**
 * A job execution with its document decoded by `document` (the caller's codec, composed with JSON parsing
 * on HTTPS, where the service sends the document as a string).
 */
export const jobExecution = <D>(document: DocumentCodec<D>) =>
  onePass(
    t.intersection(
      [
        t.type({ jobId: t.string, status: JobExecutionStatus }),
        t.partial({
          thingName: t.string,
          jobDocument: document,
          statusDetails: StatusDetailsMap,
          queuedAt: EpochSeconds,
          startedAt: EpochSeconds,
          lastUpdatedAt: EpochSeconds,
          versionNumber: Long,
          executionNumber: Long,
          approximateSecondsBeforeTimedOut: Long,
        }),
      ],
      'JobExecution',
    ),
  );

/** A job execution whose document has type `D` (`unknown` unless the client was given a document codec). */
export type JobExecution<D = unknown> = t.TypeOf<ReturnType<typeof jobExecution<D>>>;
