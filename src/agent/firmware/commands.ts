import { type Observable, type SchedulerLike, filter, map } from '../../rx-extra';
import { type ProcessEvent, runProcessGroup } from '../device-client/process-group';

/**
 * The firmware updater's commands (reboot, self-test): an argv run with {@link runProcessGroup}, so no
 * shell, its own process group, and the whole group killed on timeout, abort or unsubscribe.
 */

/** How a command ran: `ok` when it exited with status 0, else a readable description. */
export type CommandResult = { readonly ok: true } | { readonly ok: false; readonly description: string };

/** What {@link runArgv} needs besides the argv. */
export interface CommandOptions {
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  /** Time limit from spawn; Infinity for none. */
  readonly timeoutMs: number;
  readonly signal: AbortSignal;
  readonly scheduler: SchedulerLike;
}

const lastLine = (text: string): string => {
  const lines = text.split(/\r?\n/).map((line) => line.trim()).filter((line) => line !== '');
  const line = lines[lines.length - 1] ?? '';
  return line.length > 200 ? `…${line.slice(-200)}` : line;
};

const describe = (program: string, timeoutMs: number, event: Extract<ProcessEvent, { kind: 'exited' | 'spawn-failed' }>): CommandResult => {
  if (event.kind === 'spawn-failed') return { ok: false, description: `${program} could not be started: ${event.error.message}` };
  if (event.stoppedFor === 'timeout') return { ok: false, description: `${program} did not finish within ${timeoutMs} ms` };
  if (event.stoppedFor === 'aborted') return { ok: false, description: `${program} was stopped (the job was aborted)` };
  if (event.exitCode === 0) return { ok: true };
  const how = event.signal === null ? `exited with status ${String(event.exitCode)}` : `was killed by ${event.signal}`;
  const said = lastLine(event.stderrTail) || lastLine(event.stdoutTail);
  return { ok: false, description: `${program} ${how}${said === '' ? '' : `: ${said}`}` };
};

/** Runs `argv` (program first) and emits one {@link CommandResult}; never errors. Cold: each subscription runs it once. */
export const runArgv = (argv: readonly [string, ...string[]], options: CommandOptions): Observable<CommandResult> => {
  const [program, ...args] = argv;
  return runProcessGroup({
    program,
    args,
    cwd: options.cwd,
    env: options.env,
    timeoutMs: options.timeoutMs,
    killGraceMs: 5000,
    drainMs: 1000,
    tailBytes: 2048,
    signal: options.signal,
    scheduler: options.scheduler,
  }).pipe(
    filter((event): event is Extract<ProcessEvent, { kind: 'exited' | 'spawn-failed' }> => event.kind === 'exited' || event.kind === 'spawn-failed'),
    map((event) => describe(program, options.timeoutMs, event)),
  );
};
