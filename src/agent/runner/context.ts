import type { JobsClient } from '../../client';
import type { SchedulerLike } from '../../rx-extra';
import type { Journal } from '../journal';
import type { StatusDetailsEncoder } from '../status-details';
import type { DeliveryContext } from './deliver';

/** What every part of one runner shares (built once by `runJobs` from its options). */
export interface RunnerContext extends DeliveryContext {
  readonly client: JobsClient;
  readonly journal: Journal;
  readonly encode: StatusDetailsEncoder;
  readonly scheduler: SchedulerLike;
  /** Least time between two IN_PROGRESS updates. */
  readonly progressIntervalMs: number;
  /** Silence after which the last progress is sent again (renewing the step timer); undefined: never. */
  readonly heartbeatIntervalMs: number | undefined;
  /** Sent with StartNext and each IN_PROGRESS update: the service's step timer. */
  readonly stepTimeoutInMinutes: number | undefined;
  /** The runner's own limit on one execution, from its start (Infinity: none). */
  readonly jobTimeoutMs: number;
  /** The runner's limit on one step of an in-process handler (Infinity: none). */
  readonly stepTimeoutMs: number;
  /** Wait before an event stream that failed is subscribed again. */
  readonly resubscribeDelayMs: number;
}
