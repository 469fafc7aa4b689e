import { asyncScheduler, type SchedulerLike, Subject, type Subscription, timer } from 'rxjs';
import { createEngine, type Engine, type EngineSnapshot } from './engine/engine';
import type { EngineOptions, Notification } from './engine/types';

/**
 * The engine on a clock: timers fire on an RxJS scheduler (virtual time in tests), notifications come out
 * of one stream, and every change can be persisted.
 */
export interface JobsService {
  /** The engine; every mutating call re-arms the timer and persists the state. */
  readonly engine: Engine;
  readonly notifications$: Subject<Notification>;
  readonly now: () => number;
  /** Stops the timer. */
  readonly stop: () => void;
}

/** Options of {@link createJobsService}. */
export interface JobsServiceOptions extends EngineOptions {
  /** Clock and timers. Default: the async scheduler (wall clock). */
  readonly scheduler?: SchedulerLike;
  readonly restore?: EngineSnapshot;
  /** Called with the new state after every change (e.g. to write the state file). */
  readonly persist?: (snapshot: EngineSnapshot) => void;
}

/** Creates a {@link JobsService}. */
export const createJobsService = (options: JobsServiceOptions = {}): JobsService => {
  const { scheduler = asyncScheduler, persist, restore, ...knobs } = options;
  const notifications$ = new Subject<Notification>();
  const now = (): number => scheduler.now();
  const raw = createEngine({ ...knobs, now, emit: (n) => notifications$.next(n), ...(restore === undefined ? {} : { restore }) });
  let armed: Subscription | undefined;
  const arm = (): void => {
    armed?.unsubscribe();
    const deadline = raw.nextDeadline();
    if (deadline === undefined) return;
    armed = timer(Math.max(0, deadline - now()), scheduler).subscribe(() => {
      raw.expireTimers();
      changed();
    });
  };
  const changed = (): void => {
    arm();
    persist?.(raw.snapshot());
  };
  const mutating =
    <A extends unknown[], R>(call: (...args: A) => R) =>
    (...args: A): R => {
      const result = call(...args);
      changed();
      return result;
    };
  const engine: Engine = {
    ...raw,
    startNextPendingJobExecution: mutating(raw.startNextPendingJobExecution),
    updateJobExecution: mutating(raw.updateJobExecution),
    createJob: mutating(raw.createJob),
    cancelJob: mutating(raw.cancelJob),
    deleteJob: mutating(raw.deleteJob),
    cancelExecution: mutating(raw.cancelExecution),
    deleteExecution: mutating(raw.deleteExecution),
    expireTimers: mutating(raw.expireTimers),
  };
  // Timers restored from a state file run from the start.
  arm();
  return {
    engine,
    notifications$,
    now,
    stop: () => {
      armed?.unsubscribe();
      notifications$.complete();
    },
  };
};
