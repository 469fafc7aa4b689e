import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { delimiter, join } from 'node:path';
import { type Observable, type SchedulerLike, asyncScheduler, catchError, defer, from, mergeMap, of, throwError } from '../../rx-extra';
import type { DeviceClientStep } from './document';
import { resolveHandler, type HandlerFolderOptions } from './handlers';
import { type ProcessEvent, type StopCause, runProcessGroup } from './process-group';
import { StepError, type StepFailureReason, type StepOutcome, isStepError, notRun } from './step-error';

/**
 * Runs ONE Device Client step (../shared/spec/device-client-jobs.md §3) as a cold Observable: resolve the
 * program, spawn it in its own process group (never through a shell), watch it, judge the outcome.
 *
 * Where we deliberately differ from Device Client (spec §7):
 * - `runCommand` is refused unless `allowCommands` is true (Device Client always runs it).
 * - A time limit per step; on expiry (or abort, or unsubscribe) the whole process group is killed.
 * - A death by signal is a failure (Device Client reads its exit status as 0 and reports success).
 * - Output is read to the end, concurrently, keeping bounded tails (Device Client stops reading after ~1000
 *   lines, which kills the program with SIGPIPE and still reports success).
 * - `allowStdErr: N` means "exit 0 and at most N stderr lines", as its README says (the code instead never
 *   fails a step that has `allowStdErr`). Without `allowStdErr`, stderr never fails a step (same as DC).
 *   Lines are counted per step (Device Client counts across the job).
 * - `runCommand` with a `runAsUser` other than ours runs as `sudo -n -u <user> -- <argv>`; when sudo is not on
 *   PATH it is refused, where Device Client silently runs it as its own user. An unknown user makes sudo fail.
 * - `runHandler` passes `runAsUser` as `$1` and does not switch user, exactly like Device Client.
 */

/** Options of {@link runStep}; every default is listed. */
export interface StepOptions extends Omit<HandlerFolderOptions, 'searchPath'> {
  /** Run `runCommand` steps, and let handlers without `path` be found on PATH. Default: false. */
  readonly allowCommands?: boolean;
  /** Time limit of the step, from spawn. Default: 3_600_000 (1 hour); Infinity for none. */
  readonly timeoutMs?: number;
  /** From SIGTERM to SIGKILL when the group is stopped. Default: 5000. */
  readonly killGraceMs?: number;
  /** How long to keep reading output after the program exited (pipes held by leftovers). Default: 1000. */
  readonly drainMs?: number;
  /** Bytes kept of the end of stdout and of stderr, each. Default: 4096. */
  readonly tailBytes?: number;
  /** Aborting stops the step (process group killed) and errors with a StepError of reason `aborted`. */
  readonly signal?: AbortSignal;
  /** Environment of the program. Default: `process.env` (Device Client passes its own). */
  readonly env?: NodeJS.ProcessEnv;
  /** Working directory of the program, and base of a relative `path`. Default: `process.cwd()`. */
  readonly cwd?: string;
  /** Scheduler of the time limits. Default: `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
}

/** What {@link runStep} emits. */
export type StepEvent =
  | { readonly kind: 'started'; readonly pid: number }
  | { readonly kind: 'output'; readonly stream: 'stdout' | 'stderr'; readonly bytes: number }
  | ({
      readonly kind: 'finished';
      /** Set when the step failed but has `ignoreStepFailure`: the failure the job goes on after. */
      readonly ignoredFailure: StepError | undefined;
    } & StepOutcome);

/** The `finished` event of a step whose failure is ignored (`ignoreStepFailure`). */
export const ignoredFailure = (error: StepError): StepEvent => {
  const { exitCode, signal, stdoutTail, stderrTail, stderrLines, durationMs } = error;
  return { kind: 'finished', ignoredFailure: error, exitCode, signal, stdoutTail, stderrTail, stderrLines, durationMs };
};

/** Default time limit of a step (1 hour). */
export const defaultStepTimeoutMs = 3_600_000;

type Launch = { readonly program: string; readonly args: readonly string[] };

const stepError = (
  step: DeviceClientStep,
  reason: StepFailureReason,
  message: string,
  outcome: StepOutcome = notRun,
  cause?: unknown,
): StepError => new StepError(message, { ...outcome, reason, step: step.name, ...(cause === undefined ? {} : { cause }) });

const refused = (step: DeviceClientStep, why: string): StepError => stepError(step, 'refused', `Step "${step.name}" refused: ${why}`);

const findOnPath = async (name: string, env: NodeJS.ProcessEnv): Promise<string | undefined> => {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    const found = await access(candidate, constants.X_OK).then(() => true, () => false);
    if (found) return candidate;
  }
  return undefined;
};

const currentUser = (): string | undefined => {
  try {
    return userInfo().username;
  } catch {
    return undefined; // a uid without a passwd entry (containers)
  }
};

/** The program and arguments of a step, or the StepError (refused) why it may not run. */
const prepare = async (step: DeviceClientStep, options: StepOptions, env: NodeJS.ProcessEnv): Promise<Launch> => {
  const allowCommands = options.allowCommands ?? false;
  if (step.kind === 'handler') {
    const resolved = await resolveHandler(step, { ...options, searchPath: allowCommands });
    if (!resolved.ok) throw refused(step, resolved.reason);
    return { program: resolved.program, args: step.userArgument ? [step.runAsUser, ...step.args] : step.args };
  }
  if (!allowCommands) throw refused(step, 'runCommand is disabled on this device (allowCommands is off)');
  const [program, ...args] = step.argv;
  if (step.runAsUser === '' || step.runAsUser === currentUser()) return { program, args };
  const sudo = await findOnPath('sudo', env);
  if (sudo === undefined) {
    throw refused(step, `runAsUser "${step.runAsUser}" needs sudo, which is not on PATH (not running it as the agent's own user)`);
  }
  return { program: sudo, args: ['-n', '-u', step.runAsUser, '--', program, ...args] };
};

/** Judges an exited program: undefined for success, else the failure. */
const judge = (step: DeviceClientStep, outcome: StepOutcome & { stoppedFor: StopCause | undefined }, timeoutMs: number): StepError | undefined => {
  const name = `Step "${step.name}"`;
  if (outcome.stoppedFor === 'aborted') return stepError(step, 'aborted', `${name} was aborted`, outcome);
  if (outcome.stoppedFor === 'timeout') return stepError(step, 'timeout', `${name} timed out after ${timeoutMs} ms`, outcome);
  if (outcome.signal !== null) return stepError(step, 'signal', `${name} was killed by signal ${outcome.signal}`, outcome);
  if (outcome.exitCode !== 0) return stepError(step, 'exit-code', `${name} exited with status ${outcome.exitCode ?? 'unknown'}`, outcome);
  if (step.allowStdErr !== undefined && outcome.stderrLines > step.allowStdErr) {
    const message = `${name} wrote ${outcome.stderrLines} lines to stderr, more than allowStdErr (${step.allowStdErr})`;
    return stepError(step, 'stderr', message, outcome);
  }
  return undefined;
};

const toStepEvent = (step: DeviceClientStep, timeoutMs: number) => (event: ProcessEvent): Observable<StepEvent> => {
  switch (event.kind) {
    case 'started':
    case 'output':
      return of(event);
    case 'spawn-failed':
      return throwError(() =>
        stepError(step, 'spawn-failed', `Step "${step.name}" could not start: ${event.error.message}`, notRun, event.error),
      );
    case 'exited': {
      const failure = judge(step, event, timeoutMs);
      if (failure !== undefined) return throwError(() => failure);
      const { exitCode, signal, stdoutTail, stderrTail, stderrLines, durationMs } = event;
      return of({ kind: 'finished', ignoredFailure: undefined, exitCode, signal, stdoutTail, stderrTail, stderrLines, durationMs });
    }
  }
};

/**
 * Runs one step: emits `started` (with the pid), `output` (byte counts as they arrive), then `finished` and
 * completes; or errors with a {@link StepError} carrying the reason, exit status, signal and output tails.
 * With `ignoreStepFailure`, any failure but `aborted` becomes a `finished` event with `ignoredFailure` set.
 * Cold: each subscription runs the program once; unsubscribing kills its process group.
 *
 * Errors: StepError.
 */
export const runStep = (step: DeviceClientStep, options: StepOptions): Observable<StepEvent> => {
  const timeoutMs = options.timeoutMs ?? defaultStepTimeoutMs;
  const env = options.env ?? process.env;
  return defer(() => from(prepare(step, options, env))).pipe(
    mergeMap((launch) =>
      runProcessGroup({
        ...launch,
        cwd: options.cwd ?? process.cwd(),
        env,
        timeoutMs,
        killGraceMs: options.killGraceMs ?? 5000,
        drainMs: options.drainMs ?? 1000,
        tailBytes: options.tailBytes ?? 4096,
        signal: options.signal,
        scheduler: options.scheduler ?? asyncScheduler,
      }),
    ),
    mergeMap(toStepEvent(step, timeoutMs)),
    catchError((error: unknown) =>
      isStepError(error) && error.reason !== 'aborted' && step.ignoreStepFailure ? of(ignoredFailure(error)) : throwError(() => error),
    ),
  );
};
