import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Observable } from 'rxjs';
import type { HandlerStep } from '../../../src/agent/device-client/document';

/** Real files and processes for the Device Client tests: a fresh folder per test, removed afterwards. */

/** Creates a fresh 0700 folder; `cleanUp()` removes every folder made so far. */
export const tempDirs = (): { make: () => Promise<string>; cleanUp: () => Promise<void> } => {
  const made: string[] = [];
  return {
    make: async () => {
      const dir = await mkdtemp(join(tmpdir(), 'iot-jobs-dc-'));
      made.push(dir);
      return dir;
    },
    cleanUp: async () => {
      await Promise.all(made.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
    },
  };
};

/** Writes a `/bin/sh` script with exactly `mode` (the umask does not apply) and returns its path. */
export const writeScript = async (dir: string, name: string, body: string, mode = 0o700): Promise<string> => {
  const path = join(dir, name);
  await writeFile(path, `#!/bin/sh\n${body}\n`);
  await chmod(path, mode);
  return path;
};

/**
 * True while a process with this pid runs. A zombie (dead, not yet reaped by whoever adopted it) counts as
 * dead: `process.kill(pid, 0)` still succeeds on it, so on Linux its /proc state is checked too.
 */
export const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return !existsSync('/proc/self/stat'); // no /proc (not Linux): trust kill(pid, 0)
  }
};

/** The pids a test script appended to `file`, one a line. */
export const pidsIn = (file: string): number[] =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map(Number);

/** Polls `predicate` every 20 ms until it holds or `timeoutMs` passes; returns its last value. */
export const waitUntil = async (predicate: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> => {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await predicate()) return true;
    if (Date.now() > end) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

/** Everything an Observable emits, and how it ended. */
export interface Collected<T> {
  readonly events: T[];
  readonly error: unknown;
  readonly completed: boolean;
}

/** Subscribes and resolves when `source` completes or errors. */
export const collect = <T>(source: Observable<T>): Promise<Collected<T>> =>
  new Promise((resolve) => {
    const events: T[] = [];
    source.subscribe({
      next: (event) => events.push(event),
      error: (error: unknown) => resolve({ events, error, completed: false }),
      complete: () => resolve({ events, error: undefined, completed: true }),
    });
  });

/** A handler step with Device Client's defaults; `fields` override any of them (its `name` is `test-step`). */
export const handlerStep = (handler: string, args: readonly string[] = [], fields: Partial<HandlerStep> = {}): HandlerStep => ({
  kind: 'handler',
  name: 'test-step',
  handler,
  args,
  path: 'default',
  userArgument: true,
  runAsUser: '',
  ignoreStepFailure: false,
  allowStdErr: undefined,
  ...fields,
});
