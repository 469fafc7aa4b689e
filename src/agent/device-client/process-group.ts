import { spawn, type ChildProcess } from 'node:child_process';
import { Observable, type SchedulerLike, type Subscription, timer } from '../../rx-extra';
import { createOutputTail } from './output-tail';
import { type StepOutcome, notRun } from './step-error';

/**
 * Runs one program in its own process group and reports what happened; knows nothing about job documents.
 *
 * - No shell: `spawn(program, args)`, stdin from /dev/null, stdout and stderr read concurrently and always to
 *   the end (a child never blocks on a full pipe, and a large output never kills it), tails kept bounded.
 * - `detached: true` makes the child a session and process-group leader, so `process.kill(-pid)` reaches
 *   everything it started, unless a grandchild moved to its own session (setsid, daemons, `sudo` with
 *   `use_pty`): those are out of reach, as they are for systemd's `KillMode=process`.
 * - Stopping (time limit, AbortSignal, unsubscribe) sends SIGTERM to the group, then SIGKILL after a grace
 *   time. The SIGKILL is sent even after an unsubscribe (its timer is not owned by the subscriber), unless
 *   the group is already empty.
 * - When the program exits but something it left behind still holds a pipe (`daemon &`), we stop waiting for
 *   the pipe after `drainMs` instead of hanging like Device Client, which reads stdout to EOF.
 */

/** What {@link runProcessGroup} needs. */
export interface ProcessGroupOptions {
  readonly program: string;
  readonly args: readonly string[];
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  /** Time limit from spawn; Infinity for none. */
  readonly timeoutMs: number;
  /** From SIGTERM to SIGKILL of the process group. */
  readonly killGraceMs: number;
  /** How long to keep reading output after the program exited. */
  readonly drainMs: number;
  /** Bytes kept of each stream's end. */
  readonly tailBytes: number;
  readonly signal: AbortSignal | undefined;
  readonly scheduler: SchedulerLike;
}

/** Why we stopped a program ourselves. */
export type StopCause = 'timeout' | 'aborted';

/** What {@link runProcessGroup} emits. */
export type ProcessEvent =
  | { readonly kind: 'started'; readonly pid: number }
  | { readonly kind: 'output'; readonly stream: 'stdout' | 'stderr'; readonly bytes: number }
  | ({ readonly kind: 'exited'; readonly stoppedFor: StopCause | undefined } & StepOutcome)
  | { readonly kind: 'spawn-failed'; readonly error: Error };

const killGroup = (pid: number, signal: NodeJS.Signals | 0): boolean => {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false; // ESRCH: the group is empty (EPERM: members we may not signal, e.g. root under sudo).
  }
};

const asError = (error: unknown): Error => (error instanceof Error ? error : new Error(String(error)));

/**
 * Spawns `program` in a new process group. Emits `started`, `output` events, then one `exited` (or
 * `spawn-failed`) and completes; never errors. Cold: each subscription is one process.
 */
export const runProcessGroup = (options: ProcessGroupOptions): Observable<ProcessEvent> =>
  new Observable<ProcessEvent>((subscriber) => {
    const { scheduler } = options;
    if (options.signal?.aborted === true) {
      subscriber.next({ kind: 'exited', stoppedFor: 'aborted', ...notRun });
      subscriber.complete();
      return undefined;
    }
    const startedAt = scheduler.now();
    let child: ChildProcess;
    try {
      child = spawn(options.program, [...options.args], {
        cwd: options.cwd,
        env: options.env,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (error) {
      // Synchronous refusals, e.g. a NUL byte in an argument.
      subscriber.next({ kind: 'spawn-failed', error: asError(error) });
      subscriber.complete();
      return undefined;
    }
    const stdout = createOutputTail(options.tailBytes);
    const stderr = createOutputTail(options.tailBytes);
    let stoppedFor: StopCause | undefined;
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let finished = false;
    let deadline: Subscription | undefined;
    let drain: Subscription | undefined;

    const stop = (cause: StopCause): void => {
      const { pid } = child;
      if (stoppedFor !== undefined || pid === undefined) return;
      stoppedFor = cause;
      if (!killGroup(pid, 'SIGTERM')) return;
      // Not added to the subscriber: it must outlive an unsubscribe.
      const reaper = timer(options.killGraceMs, scheduler).subscribe(() => killGroup(pid, 'SIGKILL'));
      child.once('close', () => {
        if (!killGroup(pid, 0)) reaper.unsubscribe();
      });
    };
    const onAbort = (): void => stop('aborted');
    const cleanUp = (): void => {
      deadline?.unsubscribe();
      drain?.unsubscribe();
      options.signal?.removeEventListener('abort', onAbort);
    };
    const finish = (): void => {
      if (finished) return;
      finished = true;
      cleanUp();
      // After the drain time, pipes still held by leftovers are closed on our side.
      child.stdout?.destroy();
      child.stderr?.destroy();
      subscriber.next({
        kind: 'exited',
        stoppedFor,
        exitCode: exit?.code ?? null,
        signal: exit?.signal ?? null,
        stdoutTail: stdout.text(),
        stderrTail: stderr.text(),
        stderrLines: stderr.lines(),
        durationMs: Math.max(0, scheduler.now() - startedAt),
      });
      subscriber.complete();
    };

    child.stdout?.on('data', (chunk: unknown) => {
      if (!Buffer.isBuffer(chunk)) return;
      stdout.push(chunk);
      subscriber.next({ kind: 'output', stream: 'stdout', bytes: chunk.length });
    });
    child.stderr?.on('data', (chunk: unknown) => {
      if (!Buffer.isBuffer(chunk)) return;
      stderr.push(chunk);
      subscriber.next({ kind: 'output', stream: 'stderr', bytes: chunk.length });
    });
    child.on('error', (error) => {
      if (child.pid !== undefined || finished) return; // a failed kill; the exit still comes
      finished = true;
      cleanUp();
      subscriber.next({ kind: 'spawn-failed', error });
      subscriber.complete();
    });
    child.on('exit', (code, signal) => {
      exit = { code, signal };
      deadline?.unsubscribe(); // it exited in time; only the drain is left
      drain = timer(options.drainMs, scheduler).subscribe(finish);
    });
    child.on('close', (code: number | null, signal: NodeJS.Signals | null) => {
      exit ??= { code, signal };
      finish();
    });

    if (child.pid !== undefined) subscriber.next({ kind: 'started', pid: child.pid });
    if (Number.isFinite(options.timeoutMs)) deadline = timer(Math.max(0, options.timeoutMs), scheduler).subscribe(() => stop('timeout'));
    options.signal?.addEventListener('abort', onAbort, { once: true });

    return () => {
      if (finished) return;
      cleanUp();
      stop('aborted');
    };
  });
