import type { StatusDetails } from '../../codecs/primitives';
import { type Observable, type Subscription, EMPTY, Observable as Stream, Subject, catchError, concat, defer, filter, isObservable, map, of, tap, timer } from '../../rx-extra';
import { coalesceProgress, heartbeat } from '../coalesce';
import type { ExecutionRef, RunnerEvent } from '../events';
import type { HandlerDetails, HandlerEvent, JobHandler } from '../handler';
import type { RunnerContext } from './context';
import { deliverStatus, type Delivery } from './deliver';
import { drainOnWake } from './drain-on-wake';
import { type RunnerOutcome, finishExecution } from './finish';
import { watchForCancel } from './cancel-watch';
import { invalidEvent, jsonProblem } from './check-event';
import { toJobsError } from './resilient';
import { errorMessage } from '../../util/error-message';

/**
 * One execution, from the handler's start to the service's acceptance of its outcome: runs the handler,
 * turns its progress into coalesced IN_PROGRESS updates (with a heartbeat that renews the step timer),
 * saves its checkpoints, enforces the runner's time limits, watches for cancellation, then journals and
 * delivers the outcome. Unsubscribing (the runner stops) aborts the handler and leaves the journal saying
 * the execution runs, so the next start resumes it or ends it FAILED "interrupted".
 */

/** An execution ready to run: already IN_PROGRESS on the service, its handler chosen. */
export interface ExecutionToRun {
  readonly ref: ExecutionRef;
  /** Version after StartNext (or Describe, when resuming). */
  readonly versionNumber: number | undefined;
  readonly handler: JobHandler;
  /** The document as the handler's `match` returned it. */
  readonly document: unknown;
  readonly resumed: boolean;
  readonly checkpoint: unknown;
  readonly step: string | undefined;
  /** When the runner first started it, in scheduler time: the job time limit counts from here. */
  readonly startedAtMs: number;
  /** When the service queued it (tells a reused job id from this execution). */
  readonly queuedAt: Date | undefined;
}

/** One progress update to send: `details` undefined renews the step timer only (a heartbeat with no news). */
interface Pending {
  readonly details: StatusDetails | undefined;
}

/** The details a progress event sends: `progress` and `step` first, the handler's own keys win. */
const progressDetails = (event: Extract<HandlerEvent, { kind: 'progress' }>, step: string | undefined): HandlerDetails => ({
  ...(event.percent === undefined ? {} : { progress: `${String(Math.round(event.percent))}%` }),
  ...(step === undefined ? {} : { step }),
  ...event.details,
});

/** An optional field of a handler's event: JavaScript handlers may send null for absent. */
const absentIfNull = <T>(value: T | null | undefined): T | undefined => value ?? undefined;

/** Runs `job`; see the file comment. Errors: JournalError when the journal cannot be written. */
export const runExecution = (context: RunnerContext, job: ExecutionToRun, recheck: Observable<unknown>): Observable<RunnerEvent> =>
  new Stream<RunnerEvent>((subscriber) => {
    const { journal, scheduler, encode } = context;
    const { ref, handler } = job;
    const abort = new AbortController();
    const running: Subscription[] = [];
    let finishing: Subscription | undefined;
    let stepTimer: Subscription | undefined;
    let phase: 'running' | 'ended' = 'running';
    let version = job.versionNumber;
    let step = job.step;

    const stopRunning = (): void => {
      stepTimer?.unsubscribe();
      for (const subscription of running.splice(0)) subscription.unsubscribe();
    };
    // A function, not an inline test: callbacks change `phase` behind the type checker's back.
    const stillRunning = (): boolean => phase === 'running';
    const end = (): boolean => {
      if (phase !== 'running') return false;
      phase = 'ended';
      return true;
    };
    const fail = (error: unknown): void => {
      if (phase === 'running') abort.abort(error);
      phase = 'ended';
      stopRunning();
      subscriber.error(error);
    };
    const finish = (status: RunnerOutcome, details: HandlerDetails, abortHandler: boolean): void => {
      if (!end()) return;
      if (abortHandler) abort.abort(new Error(String(details['reason'])));
      stopRunning();
      finishing = finishExecution(context, ref, status, details, version, job.queuedAt).subscribe(subscriber);
    };
    const gone = (status: RunnerEvent & { kind: 'canceled' }): void => {
      if (!end()) return;
      abort.abort(new Error(`the execution is ${status.status}`));
      stopRunning();
      try {
        journal.clear();
      } catch (error) {
        subscriber.error(error);
        return;
      }
      subscriber.next(status);
      subscriber.complete();
    };
    const onDelivery = (delivery: Delivery): RunnerEvent | undefined => {
      if (delivery.kind === 'accepted') {
        if (delivery.versionNumber !== undefined) version = delivery.versionNumber;
        return undefined;
      }
      if (delivery.kind === 'gone') {
        gone({ ...ref, kind: 'canceled', status: delivery.status });
        return undefined;
      }
      return { ...ref, kind: 'error', error: delivery.error };
    };

    const limit = (ms: number, reason: string): Subscription | undefined =>
      Number.isFinite(ms) ? timer(Math.max(0, ms), scheduler).subscribe(() => {
        finish('FAILED', { reason }, true);
      }) : undefined;
    const startStep = (name: string | undefined): void => {
      stepTimer?.unsubscribe();
      stepTimer = limit(context.stepTimeoutMs, `step ${name === undefined ? '' : `"${name}" `}exceeded the time limit of ${String(context.stepTimeoutMs)} ms`);
    };

    try {
      journal.begin({
        jobId: ref.jobId,
        executionNumber: ref.executionNumber,
        versionNumber: version ?? 0,
        handler: handler.name,
        ...(job.queuedAt === undefined ? {} : { queuedAt: job.queuedAt }),
      });
    } catch (error) {
      subscriber.error(error);
      return;
    }
    subscriber.next(job.resumed ? { ...ref, kind: 'resumed', handler: handler.name, checkpoint: job.checkpoint } : { ...ref, kind: 'started', handler: handler.name });

    // Progress: coalesced, repeated as a heartbeat, and sent latest-first (a stale one is never queued).
    const progress = new Subject<Pending>();
    let latest: Pending | undefined;
    const renewal: Pending = { details: undefined };
    const paced = concat(of(renewal), progress).pipe(coalesceProgress({ minIntervalMs: context.progressIntervalMs, scheduler }));
    const beating = context.heartbeatIntervalMs === undefined ? paced : paced.pipe(heartbeat({ intervalMs: context.heartbeatIntervalMs, scheduler }));
    let seeded = false;
    running.push(
      beating
        .pipe(
          // The seed only arms the heartbeat: StartNext has just set the step timer.
          filter((pending) => {
            // After a restart nothing has renewed the step timer yet: the seed goes out at once.
            const skip = !seeded && pending === renewal && !job.resumed;
            seeded = true;
            return !skip;
          }),
          tap((pending) => {
            latest = pending;
          }),
          drainOnWake(() =>
            defer(() => {
              const next = latest;
              latest = undefined;
              if (next === undefined) return EMPTY;
              const { stepTimeoutInMinutes } = context;
              return deliverStatus(
                context,
                {
                  jobId: ref.jobId,
                  executionNumber: ref.executionNumber,
                  status: 'IN_PROGRESS',
                  ...(next.details === undefined ? {} : { statusDetails: next.details }),
                  ...(stepTimeoutInMinutes === undefined ? {} : { stepTimeoutInMinutes }),
                },
                version,
              ).pipe(
                map(onDelivery),
                // One failed update must not end the progress (and heartbeat) of the rest of the job.
                catchError((error: unknown) => of<RunnerEvent>({ ...ref, kind: 'error', error: toJobsError(error) })),
              );
            }),
          ),
        )
        .subscribe({
          next: (event) => {
            if (event !== undefined) subscriber.next(event);
          },
          error: (error: unknown) => {
            subscriber.next({ ...ref, kind: 'error', error: toJobsError(error) });
          },
        }),
    );

    running.push(
      watchForCancel(context, ref, recheck).subscribe((item) => {
        if (item.kind === 'error') subscriber.next({ ...ref, kind: 'error', error: item.error });
        else gone({ ...ref, kind: 'canceled', status: item.value.status });
      }),
    );

    const elapsed = scheduler.now() - job.startedAtMs;
    const jobTimer = limit(context.jobTimeoutMs - elapsed, `job exceeded the time limit of ${String(context.jobTimeoutMs)} ms`);
    if (jobTimer !== undefined) running.push(jobTimer);
    startStep(step);

    const onEvent = (event: HandlerEvent): void => {
      // Handlers are user code and their events unchecked values: a bug fails the job, never the runner.
      const problem = invalidEvent(event);
      if (problem !== undefined) {
        finish('FAILED', { reason: `the handler emitted an invalid event: ${problem}` }, true);
        return;
      }
      switch (event.kind) {
        case 'progress': {
          // null (from JavaScript) counts as absent, as for every optional field.
          const percent = absentIfNull(event.percent);
          const named = absentIfNull(event.step);
          if (named !== undefined && named !== step) {
            step = named;
            startStep(step);
          }
          const { details } = encode(progressDetails({ kind: 'progress', ...(percent === undefined ? {} : { percent }), details: absentIfNull(event.details) ?? {} }, step));
          subscriber.next({ ...ref, kind: 'progress', percent, step, statusDetails: details });
          progress.next({ details });
          return;
        }
        case 'checkpoint': {
          const notJson = jsonProblem(event.checkpoint);
          if (notJson !== undefined) {
            finish('FAILED', { reason: `the handler's checkpoint is not JSON: ${notJson}` }, true);
            return;
          }
          const named = absentIfNull(event.step);
          if (named !== undefined && named !== step) {
            step = named;
            startStep(step);
          }
          journal.checkpoint(event.checkpoint, step);
          return;
        }
        case 'done':
          finish(event.status, event.details ?? {}, false);
          return;
      }
    };

    const teardown = (): void => {
      if (phase === 'running') abort.abort(new Error('the runner stopped'));
      phase = 'ended';
      stopRunning();
      finishing?.unsubscribe();
    };
    // Handlers are user code: one whose run throws, or returns no Observable (an `async run`, say), fails its job.
    let work: Observable<HandlerEvent>;
    try {
      work = handler.run({ jobId: ref.jobId, executionNumber: ref.executionNumber, document: job.document, signal: abort.signal, resumed: job.resumed, checkpoint: job.checkpoint, step: job.step });
    } catch (error) {
      // Whatever it started before throwing is told to stop.
      finish('FAILED', { reason: errorMessage(error) }, true);
      return teardown;
    }
    // Typed, but a JavaScript handler, or an `async` one, may return anything.
    const returned: unknown = work;
    if (!isObservable(returned)) {
      // A Promise (of any realm) may go on working: its signal is aborted, and its rejection handled (unhandled,
      // it would end the process); the job fails either way.
      const thenable = typeof returned === 'object' && returned !== null && 'then' in returned && typeof returned.then === 'function';
      if (thenable) Promise.resolve(returned).catch(() => undefined);
      finish('FAILED', { reason: `handler "${handler.name}" did not return an Observable from run() (got ${thenable ? 'a Promise' : typeof returned})` }, true);
      return teardown;
    }
    const handling = work.subscribe({
      next: (event) => {
        if (phase !== 'running') return;
        try {
          onEvent(event);
        } catch (error) {
          fail(error);
        }
      },
      error: (error: unknown) => {
        finish('FAILED', { reason: errorMessage(error) }, false);
      },
      complete: () => {
        finish('SUCCEEDED', {}, false);
      },
    });
    // A handler that ended the job while being subscribed (a synchronous `done`) is stopped now.
    if (stillRunning()) running.push(handling);
    else handling.unsubscribe();
    return teardown;
  });
