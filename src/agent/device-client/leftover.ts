import { readFileSync } from 'node:fs';
import * as t from 'io-ts';
import { isRight } from 'fp-ts/lib/Either.js';
import { errorMessage } from '../../util/error-message';

/**
 * A step's process group that outlived its runner. A runner killed with SIGKILL (or crashed) cannot kill
 * the group of the step it was running: the group is its own (setsid), so it runs on. The runner records
 * the group in the journal when the step starts; the next start, finding the execution interrupted, kills
 * the group if it is still the same one: same boot (`/proc/sys/kernel/random/boot_id`) and same leader
 * start time (`/proc/<pid>/stat`, field 22), so a reused pid is never signalled. Linux only: elsewhere (no
 * `/proc`) nothing is recorded and nothing is killed.
 */

/** What the journal keeps of a running step's process group. */
export const StepProcess = t.type({ pgid: t.number, bootId: t.string, startTicks: t.string }, 'StepProcess');
export type StepProcess = t.TypeOf<typeof StepProcess>;

const readText = (path: string): string | undefined => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
};

const bootId = (): string | undefined => readText('/proc/sys/kernel/random/boot_id')?.trim();

/** Field 22 of /proc/<pid>/stat (start time in clock ticks since boot); the command name may hold spaces. */
const startTicks = (pid: number): string | undefined => {
  const stat = readText(`/proc/${String(pid)}/stat`);
  if (stat === undefined) return undefined;
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields[19]; // field 3 is fields[0]
};

/** Identifies the process group led by `pid` for a later {@link killLeftover}; undefined off Linux. */
export const identifyStepProcess = (pid: number): StepProcess | undefined => {
  const boot = bootId();
  const ticks = startTicks(pid);
  return boot === undefined || ticks === undefined ? undefined : { pgid: pid, bootId: boot, startTicks: ticks };
};

/**
 * Kills (SIGKILL) the process group `recorded` names, if it is still that group. Returns what it did, for
 * the FAILED "interrupted" details; `undefined` when there was nothing to do.
 */
export const killLeftover = (recorded: unknown): string | undefined => {
  const decoded = StepProcess.decode(recorded);
  if (!isRight(decoded)) return undefined;
  const { pgid, bootId: recordedBoot, startTicks: recordedTicks } = decoded.right;
  if (!Number.isSafeInteger(pgid) || pgid <= 1 || bootId() !== recordedBoot || startTicks(pgid) !== recordedTicks) return undefined;
  try {
    process.kill(-pgid, 'SIGKILL');
    return `killed the step's leftover process group ${String(pgid)}`;
  } catch (error) {
    return `could not kill the step's leftover process group ${String(pgid)}: ${errorMessage(error)}`;
  }
};
