import { join } from 'node:path';
import { isLeft } from 'fp-ts/lib/Either.js';
import { report } from '../../codecs/decode';
import { type Observable, EMPTY, catchError, concat, defer, filter, map, mergeMap, of, throwError } from '../../rx-extra';
import { type HandlerEvent, type JobHandler, checkpoint, failed, progress, succeeded } from '../handler';
import { activate, finishRollback, rollback, verifyRelease } from './activate';
import { FirmwareUpdateDocument, firmwareUpdateOperation, redactUrl, releaseFileName } from './document';
import { DownloadError, download } from './download';
import { claimPartFile, installRelease, isCurrent, partFile, pointCurrentAt, prepareLayout, readCurrent, releaseDir, releaseTarget, removePartFile } from './install';
import { type FirmwareUpdateOptions, type ResolvedOptions, resolveOptions } from './options';
import { FirmwareCheckpoint, type FirmwareRun, type PriorRelease, releaseDetails, sequence } from './phases';
import { sha256File } from './sha256';
import { errorMessage } from '../../util/error-message';

/**
 * The firmware / application updater: a resumable runner handler for `firmware-update` job documents.
 * download (resumable) → verify (sha256) → install (`releases/<version>/`, `current` swapped atomically)
 * → reboot (optional) → check + self-test → SUCCEEDED, or rollback → FAILED. Phases in phases.ts.
 */

const operationOf = (document: unknown): unknown =>
  typeof document === 'object' && document !== null && 'operation' in document ? document.operation : undefined;

const priorOf = (options: ResolvedOptions): PriorRelease => {
  const current = readCurrent(options.layout);
  return current === undefined ? { previous: null, previousTarget: null } : { previous: current.release ?? current.target, previousTarget: current.target };
};

/** Moves the verified download into `releases/<version>/` and points `current` at it, then activates it. */
const install = (run: FirmwareRun): Observable<HandlerEvent> =>
  defer(() => {
    const { layout } = run.options;
    const { version } = run.document;
    const prior = priorOf(run.options);
    return concat(
      of(checkpoint({ phase: 'installing', version, ...prior }, 'install'), progress(undefined, releaseDetails(run, prior), 'install')),
      defer(() => {
        installRelease(layout, version, run.fileName, partFile(layout, version));
        pointCurrentAt(layout, releaseTarget(version));
        return activate(run, prior);
      }),
    );
  });

/** sha256 of the whole download; a mismatch deletes it and ends FAILED. */
const verify = (run: FirmwareRun): Observable<HandlerEvent> =>
  defer(() => {
    const file = partFile(run.options.layout, run.document.version);
    const expected = run.document.sha256;
    return concat(
      of(progress(undefined, releaseDetails(run), 'verify')),
      sha256File(file).pipe(
        mergeMap((actual) => {
          if (actual === expected) return EMPTY;
          removePartFile(run.options.layout, run.document.version);
          return of(failed(`sha256 mismatch: expected ${expected} got ${actual}`, releaseDetails(run)));
        }),
      ),
    );
  });

const downloadStage = (run: FirmwareRun): Observable<HandlerEvent> => {
  const { options, document } = run;
  claimPartFile(options.layout, document.version, document.sha256);
  return download({
    url: document.url,
    file: partFile(options.layout, document.version),
    expectedSize: document.size,
    maxBytes: options.maxDownloadBytes,
    ca: options.ca,
    idleTimeoutMs: options.downloadIdleTimeoutMs,
    attempts: options.downloadAttempts,
    retryDelayMs: options.downloadRetryDelayMs,
    policy: options.policy,
    signal: run.signal,
    scheduler: options.scheduler,
  }).pipe(
    filter((event) => event.kind === 'progress'),
    map((event) =>
      progress(
        event.total === undefined ? undefined : (event.received / Math.max(event.total, 1)) * 100,
        { ...releaseDetails(run), ...(event.total === undefined ? { downloaded: `${event.received} bytes` } : {}) },
        'download',
      ),
    ),
    catchError((error: unknown) =>
      run.signal.aborted ? EMPTY : error instanceof DownloadError ? of(failed(`download failed: ${error.message}`, releaseDetails(run))) : throwError(() => error),
    ),
  );
};

/** From the download on (a fresh run, or a resume in `downloading`). */
const fromDownload = (run: FirmwareRun): Observable<HandlerEvent> =>
  sequence([
    () => of(checkpoint({ phase: 'downloading', version: run.document.version }, 'download')),
    () => downloadStage(run),
    () => verify(run),
    () => install(run),
  ]);

/** The job's release is already the active one: SUCCEEDED if its file is intact, else FAILED (nothing changed). */
const alreadyActive = (run: FirmwareRun): Observable<HandlerEvent> => {
  const { version } = run.document;
  const file = join(releaseDir(run.options.layout, version), run.fileName);
  return sha256File(file).pipe(
    catchError(() => of('')),
    map((actual) =>
      actual === run.document.sha256
        ? succeeded({ version, note: 'this release was already active' })
        : failed(`release ${version} is active but ${file} does not match the job's sha256; activate another release first`, { version }),
    ),
  );
};

/** A resume in `installing`: finish the swap if the release folder is complete, else download again. */
const resumeInstall = (run: FirmwareRun, prior: PriorRelease): Observable<HandlerEvent> => {
  const { layout } = run.options;
  const { version } = run.document;
  if (isCurrent(layout, version)) return activate(run, prior);
  return sha256File(join(releaseDir(layout, version), run.fileName)).pipe(
    catchError(() => of('')),
    mergeMap((actual) => {
      if (actual !== run.document.sha256) return fromDownload(run);
      pointCurrentAt(layout, releaseTarget(version));
      return activate(run, prior);
    }),
  );
};

/** A fresh run, or a resume in `downloading`: never reinstall the release `current` points at. */
const fromStart = (run: FirmwareRun): Observable<HandlerEvent> => (isCurrent(run.options.layout, run.document.version) ? alreadyActive(run) : fromDownload(run));

const resume = (run: FirmwareRun, saved: FirmwareCheckpoint): Observable<HandlerEvent> => {
  if (saved.phase === 'downloading') return fromStart(run);
  const prior: PriorRelease = { previous: saved.previous, previousTarget: saved.previousTarget };
  switch (saved.phase) {
    case 'installing':
      return resumeInstall(run, prior);
    case 'installed':
    case 'rebooting':
      return verifyRelease(run, prior);
    case 'self-test':
      return rollback(run, prior, 'self-test was interrupted (the device or the agent restarted while it ran)');
    case 'rolling-back':
      return finishRollback(run, prior, saved.reason);
    case 'rebooting-after-rollback':
      return of(failed(saved.reason, releaseDetails(run, prior)));
  }
};

/** The handler's name in runner events and the journal (and the `operation` it claims). */
export const firmwareUpdateHandlerName = firmwareUpdateOperation;

/**
 * A resumable runner handler that updates firmware or an application from `firmware-update` job documents
 * ({@link FirmwareUpdateDocument}): downloads the image (resuming after failures and restarts), checks its
 * sha256, installs it as `<installDir>/releases/<version>/<file>`, swaps the `current` symlink atomically,
 * optionally reboots, then checks the new release with `selfTest` and ends SUCCEEDED `{ version, previous }`,
 * or swaps back and ends FAILED `self-test failed: …; rolled back to <previous>`. A document with a URL
 * outside `allowedUrlPrefixes`, or larger than `maxDownloadBytes`, is REJECTED. See docs/agent-firmware.md.
 *
 * Throws InvalidRequestError at once for invalid options.
 * @example
 * runJobs(jobs, {
 *   handlers: [firmwareUpdateHandler({ installDir: '/opt/my-app', reboot: ['sudo', 'systemctl', 'reboot'], selfTest: ['/opt/my-app/current/self-test'] })],
 *   journal: '/var/lib/iot-jobs/journal.json',
 * });
 */
export const firmwareUpdateHandler = (options: FirmwareUpdateOptions): JobHandler<FirmwareUpdateDocument> => {
  const resolved = resolveOptions(options);
  return {
    name: firmwareUpdateHandlerName,
    resumable: true,
    match: (document) => {
      if (operationOf(document) !== firmwareUpdateOperation) return undefined;
      const decoded = FirmwareUpdateDocument.decode(document);
      if (isLeft(decoded)) return { ok: false, reason: `invalid ${firmwareUpdateOperation} job document: ${report(decoded.left).join('; ')}` };
      const refused = resolved.policy(new URL(decoded.right.url));
      if (refused !== undefined) return { ok: false, reason: `url not allowed: ${refused}` };
      const { size } = decoded.right;
      if (size !== undefined && size > resolved.maxDownloadBytes) return { ok: false, reason: `size ${size} is over this device's limit of ${resolved.maxDownloadBytes} bytes` };
      return { ok: true, document: decoded.right };
    },
    run: (job) =>
      defer(() => {
        const run: FirmwareRun = { options: resolved, document: job.document, fileName: releaseFileName(job.document.url), signal: job.signal };
        prepareLayout(resolved.layout);
        if (!job.resumed || job.checkpoint === undefined) return fromStart(run);
        const decoded = FirmwareCheckpoint.decode(job.checkpoint);
        if (isLeft(decoded)) return of(failed(`cannot resume: the journal's checkpoint is not one this handler writes (${report(decoded.left).join('; ')})`, releaseDetails(run)));
        if (decoded.right.version !== job.document.version) {
          return of(failed(`cannot resume: the journal's checkpoint is for version ${decoded.right.version}, the job is for ${job.document.version}`, releaseDetails(run)));
        }
        return resume(run, decoded.right);
      }).pipe(catchError((error: unknown) => (job.signal.aborted ? EMPTY : of(failed(errorMessage(error), { version: job.document.version, url: redactUrl(job.document.url) }))))),
  };
};
