import type { JobsClient } from '../client';
import { InvalidRequestError } from '../errors';
import { type Observable, type SchedulerLike, EMPTY, asyncScheduler, concat, defer, filter, map, merge, mergeMap, of, share, timer } from '../rx-extra';
import type { RunnerEvent } from './events';
import type { JobHandler } from './handler';
import { type Journal, JournalError, memoryJournal, openJournal } from './journal';
import type { RetryUpdateOptions } from './retry-update';
import { type StatusDetailsEncoder, type StatusDetailsOptions, createStatusDetailsEncoder } from './status-details';
import type { RunnerContext } from './runner/context';
import { drainOnWake } from './runner/drain-on-wake';
import { replayEntry } from './runner/finish';
import { resilient } from './runner/resilient';
import { type TakeOptions, cleanUpInterrupted, drainQueue, resumeRunning } from './runner/take';
import { errorMessage } from '../util/error-message';

/** Options of {@link runJobs}. Every field but `handlers` is optional; defaults are listed. */
export interface RunJobsOptions {
  /** Asked in order for each job document; the first that claims it runs it. None: REJECTED. */
  readonly handlers: readonly JobHandler[];
  /**
   * The journal: a file path (atomic writes, fsync; survives reboots) or an open {@link Journal}.
   * Default: in memory, so a crash forgets the running execution (use a file on a device).
   */
  readonly journal?: string | Journal;
  /** Emits after each reconnect: the runner looks for work and rechecks the running execution. */
  readonly reconnected?: Observable<unknown>;
  /** Looks for work (and rechecks the running execution) this often, besides notifications. Default 300 000 ms. */
  readonly pollIntervalMs?: number;
  /** The service's step timer, set by StartNext and renewed by every IN_PROGRESS update. Default: none. */
  readonly stepTimeoutInMinutes?: number;
  /** Silence after which the last progress is sent again. Default: a third of `stepTimeoutInMinutes`, else none. */
  readonly heartbeatIntervalMs?: number;
  /** Least time between two IN_PROGRESS updates (progress in between is coalesced). Default 5000 ms. */
  readonly progressIntervalMs?: number;
  /** The runner's limit on one execution; on expiry the handler is aborted and the job FAILED. Default: none. */
  readonly jobTimeoutMs?: number;
  /** The runner's limit on one step (in-process handlers: a new `step` name starts one). Default: none. */
  readonly stepTimeoutMs?: number;
  /** How statusDetails are fitted to the service's limits. */
  readonly statusDetails?: StatusDetailsOptions;
  /** Backoff of status updates and reads through throttling, timeouts and disconnects. */
  readonly retry?: Pick<RetryUpdateOptions, 'baseDelayMs' | 'maxDelayMs' | 'random' | 'maxAttempts'>;
  /** Wait before a failed notification stream is subscribed again. Default 5000 ms. */
  readonly resubscribeDelayMs?: number;
  /** Every timer of the runner. Default `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
}

const positive = (name: string, value: number | undefined, issues: string[], allowInfinity = false): void => {
  if (value === undefined) return;
  const ok = allowInfinity && value === Number.POSITIVE_INFINITY ? true : Number.isFinite(value) && value > 0 && value <= 2_147_483_647;
  if (!ok) issues.push(`${name}: expected a number of ms from 1 to 2147483647, got ${String(value)}`);
};

const checkOptions = (options: RunJobsOptions): StatusDetailsEncoder => {
  const issues: string[] = [];
  const names = options.handlers.map((handler) => handler.name);
  const repeated = names.filter((name, index) => names.indexOf(name) !== index);
  if (repeated.length > 0) issues.push(`handlers: names must be unique, repeated: ${[...new Set(repeated)].join(', ')}`);
  positive('pollIntervalMs', options.pollIntervalMs, issues);
  positive('heartbeatIntervalMs', options.heartbeatIntervalMs, issues);
  positive('progressIntervalMs', options.progressIntervalMs, issues);
  positive('resubscribeDelayMs', options.resubscribeDelayMs, issues);
  positive('jobTimeoutMs', options.jobTimeoutMs, issues, true);
  positive('stepTimeoutMs', options.stepTimeoutMs, issues, true);
  const retryOptions = options.retry ?? {};
  positive('retry.baseDelayMs', retryOptions.baseDelayMs, issues);
  positive('retry.maxDelayMs', retryOptions.maxDelayMs, issues);
  const attempts = retryOptions.maxAttempts;
  if (attempts !== undefined && !(attempts === Number.POSITIVE_INFINITY || (Number.isInteger(attempts) && attempts >= 1))) {
    issues.push(`retry.maxAttempts: expected a whole number of at least 1, or Infinity, got ${String(attempts)}`);
  }
  const minutes = options.stepTimeoutInMinutes;
  if (minutes !== undefined && !(Number.isInteger(minutes) && minutes >= 1 && minutes <= 10_080)) {
    issues.push(`stepTimeoutInMinutes: expected a whole number from 1 to 10080, got ${String(minutes)}`);
  }
  let encode: StatusDetailsEncoder | undefined;
  try {
    encode = createStatusDetailsEncoder(options.statusDetails);
  } catch (error) {
    issues.push(`statusDetails: ${errorMessage(error)}`);
  }
  if (issues.length > 0 || encode === undefined) throw new InvalidRequestError(issues);
  return encode;
};

/**
 * The job runner (ARCHITECTURE.md §5). Subscribing starts it: it first delivers the journal's outbox (in
 * order), then resumes the execution the journal says was running, then takes work at start-up, on
 * `notify-next`, after `reconnected` and every `pollIntervalMs`, one execution at a time: StartNext,
 * choose the handler, run it, report SUCCEEDED / FAILED / REJECTED. Unsubscribing stops it: the running
 * handler is aborted and stays in the journal, to be resumed (or ended FAILED "interrupted") next time.
 *
 * Emits {@link RunnerEvent}s. It survives the service's and the network's failures (as `error` events);
 * it errors only with JournalError, when the journal cannot be written (running on would risk running a
 * job twice or losing a status). Throws InvalidRequestError at once for invalid options.
 * @example
 * runJobs(jobs, { handlers: [firmwareHandler], journal: '/var/lib/iot-jobs/journal.json' }).subscribe(console.log);
 */
export const runJobs = (client: JobsClient, options: RunJobsOptions): Observable<RunnerEvent> => {
  const encode = checkOptions(options);
  const scheduler = options.scheduler ?? asyncScheduler;
  const pollIntervalMs = options.pollIntervalMs ?? 300_000;
  const resubscribeDelayMs = options.resubscribeDelayMs ?? 5000;
  const { stepTimeoutInMinutes } = options;
  const heartbeatIntervalMs = options.heartbeatIntervalMs ?? (stepTimeoutInMinutes === undefined ? undefined : (stepTimeoutInMinutes * 60_000) / 3);
  return defer(() => {
    const opened: { readonly journal: Journal; readonly recovered?: { readonly message: string } } =
      typeof options.journal === 'string' ? openJournal(options.journal) : { journal: options.journal ?? memoryJournal() };
    const { journal } = opened;
    const context: RunnerContext = {
      client,
      journal,
      encode,
      scheduler,
      retry: { ...options.retry, scheduler },
      progressIntervalMs: options.progressIntervalMs ?? 5000,
      heartbeatIntervalMs,
      stepTimeoutInMinutes,
      jobTimeoutMs: options.jobTimeoutMs ?? Number.POSITIVE_INFINITY,
      stepTimeoutMs: options.stepTimeoutMs ?? Number.POSITIVE_INFINITY,
      resubscribeDelayMs,
    };
    const reconnected = options.reconnected ?? EMPTY;
    const poll = timer(pollIntervalMs, pollIntervalMs, scheduler);
    const recheck = merge(reconnected, poll).pipe(share());
    const take: TakeOptions = { handlers: options.handlers, recheck, cleanups: new Map() };
    // What a killed runner left is cleaned up at once, before any request: a device that starts offline
    // must not leave a step (a flash script, say) running until it reconnects. A resumable handler's run
    // is continued instead, so it is left alone.
    const { running } = journal;
    const runningHandler = running === undefined ? undefined : options.handlers.find((handler) => handler.name === running.handler);
    if (running !== undefined && runningHandler?.resumable !== true) cleanUpInterrupted(take, running);

    const recovered: Observable<RunnerEvent> =
      opened.recovered !== undefined ? of({ kind: 'error', error: new JournalError(opened.recovered.message, journal.path) }) : EMPTY;
    const replay = defer(() => concat(...journal.outbox.map((entry) => replayEntry(context, entry))));
    const resume = defer(() => (journal.running === undefined ? EMPTY : resumeRunning(context, take, journal.running)));
    // notify-next is subscribed before the start-up wake, so no job created meanwhile is missed.
    const nextChanged = resilient(client.nextJobExecutionChanged(), resubscribeDelayMs, scheduler).pipe(share());
    const nextErrors = nextChanged.pipe(
      filter((item) => item.kind === 'error'),
      map((item): RunnerEvent => ({ kind: 'error', error: item.error })),
    );
    // A notification that could not be decoded (either stream) is reported, and may have been the news of a
    // job: look at once.
    const undecoded = client.eventDecodeErrors().pipe(share());
    const wakes = merge(
      nextChanged.pipe(filter((item) => item.kind === 'value' && item.value.execution !== undefined)),
      of('start-up'),
      recheck,
      undecoded,
      // Notifications published while the failed stream was being subscribed again are lost: look once it listens.
      nextErrors.pipe(mergeMap(() => timer(2 * resubscribeDelayMs, scheduler))),
    );
    const work = merge(nextErrors, wakes.pipe(drainOnWake(() => drainQueue(context, take))));
    // Reported from the start, also while a journaled execution is resumed (before `work` subscribes).
    const reported = undecoded.pipe(map((error): RunnerEvent => ({ kind: 'error', error })));
    return merge(reported, concat(recovered, replay, resume, work));
  });
};
