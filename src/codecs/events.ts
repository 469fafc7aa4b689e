import * as t from 'io-ts';
import { JobExecutionSummary, jobExecution, type DocumentCodec } from './job-execution';
import { onePass } from './one-pass';
import { EpochSeconds } from './primitives';

/** The two notifications (../shared/spec/jobs-api.md §2.4), as tolerant readers. */

/** `notify`: the pending executions by status; `jobs` is `{}` when nothing is pending. */
export const JobExecutionsChangedEvent = t.type(
  {
    jobs: t.partial({ IN_PROGRESS: t.array(JobExecutionSummary), QUEUED: t.array(JobExecutionSummary) }, 'PendingJobs'),
    timestamp: EpochSeconds,
  },
  'JobExecutionsChangedEvent',
);
export type JobExecutionsChangedEvent = t.TypeOf<typeof JobExecutionsChangedEvent>;

/** `notify-next`: the execution Describe(`$next`) would now return; no `execution` when the queue is empty. */
export const nextJobExecutionChangedEvent = <D>(document: DocumentCodec<D>) =>
  onePass(
    t.intersection([t.type({ timestamp: EpochSeconds }), t.partial({ execution: jobExecution(document) })], 'NextJobExecutionChangedEvent'),
  );
/** A `notify-next` notification, decoded: the execution Describe(`$next`) would now return, absent when none. */
export type NextJobExecutionChangedEvent<D = unknown> = t.TypeOf<ReturnType<typeof nextJobExecutionChangedEvent<D>>>;
