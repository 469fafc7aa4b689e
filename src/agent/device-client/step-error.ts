import { JobsError } from '../../errors';

/**
 * Why a Device Client step failed:
 * - `exit-code`: the program exited with a status other than 0;
 * - `signal`: it was killed by a signal (Device Client counts this as success, spec §3.5; we do not);
 * - `stderr`: it exited 0 but wrote more stderr lines than `allowStdErr` (the README's rule, spec §7);
 * - `timeout`: it ran past its time limit and was killed with its process group (Device Client has no limit);
 * - `spawn-failed`: it could not be started (not found, not executable, …);
 * - `refused`: we would not start it (commands disabled, handler outside the allow-list, no sudo for `runAsUser`);
 * - `aborted`: the caller's AbortSignal fired (the job was cancelled); never ignored by `ignoreStepFailure`.
 */
export type StepFailureReason = 'exit-code' | 'signal' | 'stderr' | 'timeout' | 'spawn-failed' | 'refused' | 'aborted';

/** What a step left behind, whether it succeeded or not. */
export interface StepOutcome {
  /** Exit status, or null when the program was killed by a signal or never ran. */
  readonly exitCode: number | null;
  /** The signal that killed it, or null. */
  readonly signal: NodeJS.Signals | null;
  /** The end of its stdout (at most `tailBytes`, UTF-8, unsanitised). */
  readonly stdoutTail: string;
  /** The end of its stderr (at most `tailBytes`, UTF-8, unsanitised). */
  readonly stderrTail: string;
  /** Lines written to stderr (what `allowStdErr` counts). */
  readonly stderrLines: number;
  /** From spawn to exit; 0 when it never ran. */
  readonly durationMs: number;
}

/** A step that never ran. */
export const notRun: StepOutcome = { exitCode: null, signal: null, stdoutTail: '', stderrTail: '', stderrLines: 0, durationMs: 0 };

/** Fields of a {@link StepError}. */
export interface StepErrorOptions extends StepOutcome {
  readonly reason: StepFailureReason;
  /** The step's `name`. */
  readonly step: string;
  readonly cause?: unknown;
}

/**
 * A Device Client step failed. Its `message` is a readable, statusDetails-ready reason, e.g.
 * `Step "Install-Application" exited with status 1`; the fields carry the outcome and the output tails.
 */
export class StepError extends JobsError implements StepOutcome {
  override readonly name: 'StepError';
  readonly reason: StepFailureReason;
  readonly step: string;
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdoutTail: string;
  readonly stderrTail: string;
  readonly stderrLines: number;
  readonly durationMs: number;

  constructor(message: string, options: StepErrorOptions) {
    super(message, 'cause' in options ? { cause: options.cause } : {});
    this.name = 'StepError';
    this.reason = options.reason;
    this.step = options.step;
    this.exitCode = options.exitCode;
    this.signal = options.signal;
    this.stdoutTail = options.stdoutTail;
    this.stderrTail = options.stderrTail;
    this.stderrLines = options.stderrLines;
    this.durationMs = options.durationMs;
  }
}

/** True for a {@link StepError}, also across realms or duplicated installs (checks `name`). */
export const isStepError = (error: unknown): error is StepError =>
  error instanceof StepError || (error instanceof Error && error.name === 'StepError');
