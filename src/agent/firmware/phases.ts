import * as t from 'io-ts';
import { type Observable, EMPTY, concat, defer, tap } from '../../rx-extra';
import type { HandlerDetails, HandlerEvent } from '../handler';
import type { FirmwareUpdateDocument } from './document';
import type { ResolvedOptions } from './options';

/**
 * The firmware updater's phases, as saved in the runner's journal with each checkpoint. After a crash or a
 * reboot the handler is called again with the last one and continues from there:
 *
 * | phase | saved before | on resume |
 * |---|---|---|
 * | `downloading` | the download starts | download again, resuming the `.part` file |
 * | `installing` | the release folder is written and `current` swapped | finish the install (or download again) |
 * | `installed` | (after the swap) the reboot or the check | check the release and run the self-test |
 * | `rebooting` | the reboot command runs | check the release and run the self-test |
 * | `self-test` | the self-test runs | roll back: a self-test that takes the device down must not loop |
 * | `rolling-back` | `current` is swapped back | swap back (again) and report FAILED |
 * | `rebooting-after-rollback` | the reboot after a rollback | report FAILED |
 */

const Prior = {
  /** What was active before: the release's name, or the link text when it was not one of ours; null for none. */
  previous: t.union([t.string, t.null]),
  /** The link text `current` had before, which a rollback restores; null: there was no `current`. */
  previousTarget: t.union([t.string, t.null]),
};

/** A checkpoint of the firmware updater (decoded from the journal on resume). */
export const FirmwareCheckpoint = t.union([
  t.type({ phase: t.literal('downloading'), version: t.string }),
  t.type({ phase: t.keyof({ installing: null, installed: null, rebooting: null, 'self-test': null }), version: t.string, ...Prior }),
  t.type({ phase: t.keyof({ 'rolling-back': null, 'rebooting-after-rollback': null }), version: t.string, reason: t.string, ...Prior }),
]);
export type FirmwareCheckpoint = t.TypeOf<typeof FirmwareCheckpoint>;

/** What was active before this update. */
export interface PriorRelease {
  readonly previous: string | null;
  readonly previousTarget: string | null;
}

/** One execution of the updater: its options and document. */
export interface FirmwareRun {
  readonly options: ResolvedOptions;
  readonly document: FirmwareUpdateDocument;
  /** The name of the image in `releases/<version>/`. */
  readonly fileName: string;
  readonly signal: AbortSignal;
}

/** `{ version, previous }` for status details (`previous` left out when there was none). */
export const releaseDetails = (run: FirmwareRun, prior?: PriorRelease): HandlerDetails => ({
  version: run.document.version,
  ...(prior?.previous === null || prior?.previous === undefined ? {} : { previous: prior.previous }),
});

/** Runs `stages` one after the other; a `done` event ends the sequence: later stages never start. */
export const sequence = (stages: readonly (() => Observable<HandlerEvent>)[]): Observable<HandlerEvent> =>
  stages.reduceRight<Observable<HandlerEvent>>(
    (rest, stage) =>
      defer(() => {
        let ended = false;
        return concat(
          defer(stage).pipe(
            tap((event) => {
              if (event.kind === 'done') ended = true;
            }),
          ),
          defer(() => (ended ? EMPTY : rest)),
        );
      }),
    EMPTY,
  );
