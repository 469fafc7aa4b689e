import { type Observable, asyncScheduler, catchError, defer, from, map, mergeMap, of, tap, throwError } from '../../rx-extra';
import type { DeviceClientPlan, DeviceClientStep } from './document';
import { isPlainName } from './handlers';
import { StepError, isStepError, notRun } from './step-error';
import { type StepEvent, type StepOptions, defaultStepTimeoutMs, ignoredFailure, runStep } from './step';

/**
 * Runs a whole Device Client plan (../shared/spec/device-client-jobs.md §3.1, §4): the steps in order,
 * stopping at the first failure that is not ignored; the `finalStep` only when every step succeeded (or its
 * failure was ignored) — Device Client's rule, so it is not a cleanup hook; then one result with the
 * statusDetails Device Client reports (`reason`, `stdout` only with `includeStdOut`, `stderr` when not empty).
 *
 * Differences from Device Client: a job time limit on top of the step limits (not ignorable); readable
 * `reason` texts (Device Client's are garbled: exit 1 reads "Job killed by signal: 1", spec §4), except the
 * success text, which is the same; a job whose commands are disabled is refused before anything runs.
 */

/** Options of {@link runPlan}: those of each step, plus the time limits. */
export interface PlanOptions extends Omit<StepOptions, 'timeoutMs'> {
  /** Time limit of each step. Default: 3_600_000 (1 hour); Infinity for none. */
  readonly stepTimeoutMs?: number;
  /** Time limit of the whole job, final step included. Default: Infinity (each step is still limited). */
  readonly jobTimeoutMs?: number;
}

/** `statusDetails` of the final update, Device Client's keys; `stdout`/`stderr` are absent when empty. */
export interface PlanStatusDetails {
  readonly reason: string;
  /** The end of the job's stdout (all steps), only when the document has `includeStdOut`. */
  readonly stdout?: string;
  /** The end of the job's stderr (all steps). */
  readonly stderr?: string;
}

/** What {@link runPlan} emits: step events, then exactly one result. */
export type PlanEvent =
  | {
      readonly kind: 'step';
      /** Position in `plan.steps`; the final step has `steps.length`. */
      readonly index: number;
      readonly final: boolean;
      readonly name: string;
      readonly event: StepEvent;
    }
  | {
      readonly kind: 'result';
      readonly status: 'SUCCEEDED' | 'FAILED';
      /** Strings to trim to the service's limits (1024 characters, no control characters) before sending. */
      readonly statusDetails: PlanStatusDetails;
      /** The failure that ended the job (FAILED only). */
      readonly failure: StepError | undefined;
      readonly durationMs: number;
    };

/** `reason` of a successful job, exactly Device Client's. */
export const succeededReason = 'Job exited with status: 0';

/**
 * Why this device will not run `plan` at all (empty when it may): `runCommand` steps with commands disabled,
 * handler names that are not plain file names. Pure; handler files are checked when their step runs, since an
 * earlier step may install them. A runner may report these as REJECTED before starting; {@link runPlan} checks
 * them too and reports FAILED without running anything.
 */
export const checkPlan = (plan: DeviceClientPlan, options: Pick<StepOptions, 'allowCommands'>): readonly string[] => {
  const allowCommands = options.allowCommands ?? false;
  const all = plan.finalStep === undefined ? plan.steps : [...plan.steps, plan.finalStep];
  return all.flatMap((step) => {
    if (step.kind === 'command') {
      return allowCommands ? [] : [`step "${step.name}": runCommand is disabled on this device (allowCommands is off)`];
    }
    if (isPlainName(step.handler) || (allowCommands && step.path === undefined)) return [];
    return [`step "${step.name}": handler ${JSON.stringify(step.handler)} must be a plain file name (no "/", "." or "..")`];
  });
};

/** The last `limit` characters of `text`, not starting inside a surrogate pair. */
const keepEnd = (text: string, limit: number): string => {
  if (text.length <= limit) return text;
  const end = text.slice(text.length - limit);
  const first = end.charCodeAt(0);
  return first >= 0xdc00 && first <= 0xdfff ? end.slice(1) : end;
};

/**
 * Runs `plan` (subscribe to start; unsubscribe kills the running step's process group). Emits the events of
 * each step, then one `result` (SUCCEEDED or FAILED) and completes. Errors only with a StepError of reason
 * `aborted` when `options.signal` fires: a cancelled job gets no status.
 *
 * Errors: StepError (`aborted`).
 */
export const runPlan = (plan: DeviceClientPlan, options: PlanOptions): Observable<PlanEvent> =>
  defer(() => {
    const scheduler = options.scheduler ?? asyncScheduler;
    const stepTimeoutMs = options.stepTimeoutMs ?? defaultStepTimeoutMs;
    const jobTimeoutMs = options.jobTimeoutMs ?? Infinity;
    const tailChars = options.tailBytes ?? 4096;
    const startedAt = scheduler.now();
    let stdout = '';
    let stderr = '';
    const result = (failure: StepError | undefined): PlanEvent => ({
      kind: 'result',
      status: failure === undefined ? 'SUCCEEDED' : 'FAILED',
      statusDetails: {
        reason: failure === undefined ? succeededReason : failure.message,
        ...(plan.includeStdOut && stdout !== '' ? { stdout } : {}),
        ...(stderr !== '' ? { stderr } : {}),
      },
      failure,
      durationMs: Math.max(0, scheduler.now() - startedAt),
    });
    const keep = (outcome: { stdoutTail: string; stderrTail: string }): void => {
      stdout = keepEnd(stdout + outcome.stdoutTail, tailChars);
      stderr = keepEnd(stderr + outcome.stderrTail, tailChars);
    };

    const issues = checkPlan(plan, options);
    if (issues.length > 0) {
      return of(result(new StepError(`Job refused: ${issues.join('; ')}`, { ...notRun, reason: 'refused', step: '' })));
    }

    const jobLimitError = (step: DeviceClientStep, error?: StepError): StepError =>
      new StepError(`Job time limit of ${jobTimeoutMs} ms reached ${error === undefined ? 'before' : 'in'} step "${step.name}"`, {
        reason: 'timeout',
        step: step.name,
        exitCode: error?.exitCode ?? null,
        signal: error?.signal ?? null,
        stdoutTail: error?.stdoutTail ?? '',
        stderrTail: error?.stderrTail ?? '',
        stderrLines: error?.stderrLines ?? 0,
        durationMs: error?.durationMs ?? 0,
        ...(error === undefined ? {} : { cause: error }),
      });

    const runOne = (step: DeviceClientStep, index: number): Observable<PlanEvent> =>
      defer(() => {
        const remaining = startedAt + jobTimeoutMs - scheduler.now();
        if (remaining <= 0) return throwError(() => jobLimitError(step));
        const limitedByJob = remaining < stepTimeoutMs;
        // The job limit is not a step failure: ignoreStepFailure must not let the job run on past it.
        return runStep({ ...step, ignoreStepFailure: false }, { ...options, timeoutMs: Math.min(stepTimeoutMs, remaining) }).pipe(
          catchError((error: unknown) => {
            if (!isStepError(error)) return throwError(() => error);
            keep(error);
            if (limitedByJob && error.reason === 'timeout') return throwError(() => jobLimitError(step, error));
            return error.reason !== 'aborted' && step.ignoreStepFailure ? of(ignoredFailure(error)) : throwError(() => error);
          }),
          tap((event) => {
            if (event.kind === 'finished' && event.ignoredFailure === undefined) keep(event);
          }),
          map((event): PlanEvent => ({ kind: 'step', index, final: index === plan.steps.length, name: step.name, event })),
        );
      });

    const all = plan.finalStep === undefined ? plan.steps : [...plan.steps, plan.finalStep];
    const parts: (() => Observable<PlanEvent>)[] = [
      ...all.map((step, index) => () => runOne(step, index)),
      () => defer(() => of(result(undefined))),
    ];
    return from(parts).pipe(
      mergeMap((part) => part(), 1),
      catchError((error: unknown) => (isStepError(error) && error.reason !== 'aborted' ? of(result(error)) : throwError(() => error))),
    );
  });
