import { join } from 'node:path';
import { type MonoTypeOperatorFunction, type Observable, EMPTY, NEVER, catchError, concat, defer, map, mergeMap, of, race, take, timer } from '../../rx-extra';
import { type HandlerEvent, checkpoint, failed, progress, succeeded } from '../handler';
import { type CommandResult, runArgv } from './commands';
import { isCurrent, pointCurrentAt, readCurrent, releaseDir } from './install';
import type { CommandArgv } from './options';
import { type FirmwareCheckpoint, type FirmwareRun, type PriorRelease, releaseDetails } from './phases';
import { errorMessage } from '../../util/error-message';

/**
 * What happens once the new release is in place: the reboot, the check and self-test with the new release
 * active, and the rollback when either fails. See phases.ts for what each checkpoint means after a restart.
 */

const saved = (run: FirmwareRun, prior: PriorRelease, phase: 'installed' | 'rebooting' | 'self-test'): FirmwareCheckpoint => ({
  phase,
  version: run.document.version,
  previous: prior.previous,
  previousTarget: prior.previousTarget,
});

/** The environment of the reboot and self-test commands. */
const commandEnv = (run: FirmwareRun, prior: PriorRelease): NodeJS.ProcessEnv => {
  const folder = releaseDir(run.options.layout, run.document.version);
  return {
    ...run.options.env,
    IOT_JOBS_FIRMWARE_VERSION: run.document.version,
    IOT_JOBS_FIRMWARE_PREVIOUS: prior.previous ?? '',
    IOT_JOBS_FIRMWARE_DIR: folder,
    IOT_JOBS_FIRMWARE_FILE: join(folder, run.fileName),
  };
};

const command = (run: FirmwareRun, prior: PriorRelease, argv: CommandArgv, timeoutMs: number): Observable<CommandResult> =>
  runArgv(argv, { cwd: run.options.layout.installDir, env: commandEnv(run, prior), timeoutMs, signal: run.signal, scheduler: run.options.scheduler });

/**
 * Runs the reboot command and waits for the device to go down (the runner is then stopped, and this is
 * unsubscribed). Emits one description of what went wrong instead: the command failed, or the device was
 * still up `rebootWaitMs` after the command started.
 */
const waitForReboot = (run: FirmwareRun, prior: PriorRelease, argv: CommandArgv): Observable<string> =>
  defer(() => {
    const limit = run.options.rebootWaitMs;
    let returned = false;
    return race(
      command(run, prior, argv, Number.POSITIVE_INFINITY).pipe(
        mergeMap((result) => {
          returned = true;
          return result.ok ? NEVER : of(`reboot command failed: ${result.description}`);
        }),
      ),
      timer(limit, run.options.scheduler).pipe(
        map(() =>
          returned
            ? `reboot command returned but the device did not restart within ${limit} ms`
            : `reboot command did not finish and the device did not restart within ${limit} ms`,
        ),
      ),
    ).pipe(take(1));
  });

/** Unless the job was aborted meanwhile (canceled, or the runner is stopping): then nothing more is done. */
const unlessAborted = (run: FirmwareRun, next: () => Observable<HandlerEvent>): Observable<HandlerEvent> => (run.signal.aborted ? EMPTY : next());

/**
 * Swaps `current` back to what it was (or removes it when there was nothing), then reports FAILED with
 * `<reason>; rolled back to <previous>`, after a reboot when `rebootAfterRollback`. Resuming in phase
 * `rolling-back` calls this again: the swap is idempotent.
 */
export const finishRollback = (run: FirmwareRun, prior: PriorRelease, reason: string): Observable<HandlerEvent> =>
  defer(() => {
    pointCurrentAt(run.options.layout, prior.previousTarget);
    const full = `${reason}; rolled back to ${prior.previous ?? 'no release (current removed)'}`;
    const details = releaseDetails(run, prior);
    const { reboot } = run.options;
    if (!run.options.rebootAfterRollback || reboot === undefined) return of(failed(full, details));
    const rebooting: FirmwareCheckpoint = { phase: 'rebooting-after-rollback', version: run.document.version, reason: full, ...prior };
    return concat(
      of(checkpoint(rebooting, 'reboot')),
      waitForReboot(run, prior, reboot).pipe(mergeMap((problem) => unlessAborted(run, () => of(failed(`${full}; ${problem}`, details))))),
    );
  });

/** Starts a rollback: saves the phase `rolling-back` with `reason`, then {@link finishRollback}. */
export const rollback = (run: FirmwareRun, prior: PriorRelease, reason: string): Observable<HandlerEvent> =>
  concat(
    of(checkpoint({ phase: 'rolling-back', version: run.document.version, reason, ...prior }, 'rollback'), progress(undefined, releaseDetails(run, prior), 'rollback')),
    defer(() => finishRollback(run, prior, reason)),
  );

/** An unexpected error (the file system failing) while the new release is active rolls back too. */
const orRollBack = (run: FirmwareRun, prior: PriorRelease): MonoTypeOperatorFunction<HandlerEvent> =>
  catchError((error: unknown) => (run.signal.aborted ? EMPTY : rollback(run, prior, `error with the new release active: ${errorMessage(error)}`)));

/**
 * With the new release active (after the reboot, if any): checks that `current` points at it, runs the
 * self-test, and ends SUCCEEDED `{ version, previous }`, or rolls back.
 */
export const verifyRelease = (run: FirmwareRun, prior: PriorRelease): Observable<HandlerEvent> =>
  defer(() => {
    const { layout, selfTest } = run.options;
    const { version } = run.document;
    const details = releaseDetails(run, prior);
    if (!isCurrent(layout, version)) {
      const now = readCurrent(layout);
      return of(failed(`after the update, current points at ${now === undefined ? 'nothing' : now.target} instead of releases/${version}`, details));
    }
    if (selfTest === undefined) return of(succeeded(details));
    return concat(
      of(checkpoint(saved(run, prior, 'self-test'), 'self-test'), progress(undefined, details, 'self-test')),
      command(run, prior, selfTest, run.options.selfTestTimeoutMs).pipe(
        mergeMap((result) => unlessAborted(run, () => (result.ok ? of(succeeded(details)) : rollback(run, prior, `self-test failed: ${result.description}`)))),
      ),
    );
  }).pipe(orRollBack(run, prior));

/**
 * Right after `current` was swapped: saves `installed`, then reboots into the new release (phase
 * `rebooting`; a failed reboot rolls back), or without `reboot` checks it at once.
 */
export const activate = (run: FirmwareRun, prior: PriorRelease): Observable<HandlerEvent> =>
  defer(() => {
    const { reboot } = run.options;
    const installed = of(checkpoint(saved(run, prior, 'installed'), 'install'));
    if (reboot === undefined) return concat(installed, verifyRelease(run, prior));
    return concat(
      installed,
      of(progress(undefined, releaseDetails(run, prior), 'reboot'), checkpoint(saved(run, prior, 'rebooting'), 'reboot')),
      waitForReboot(run, prior, reboot).pipe(mergeMap((problem) => unlessAborted(run, () => rollback(run, prior, problem)))),
    ).pipe(orRollBack(run, prior));
  });
