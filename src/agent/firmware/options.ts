import { InvalidRequestError } from '../../errors';
import { type SchedulerLike, asyncScheduler } from '../../rx-extra';
import type { CaOption } from './http-get';
import { type InstallLayout, installLayout } from './install';
import { type UrlPolicy, checkPrefixes, urlPolicy } from './url-policy';

/** Options of {@link firmwareUpdateHandler}. Only `installDir` is required; defaults are listed. */
export interface FirmwareUpdateOptions {
  /**
   * The folder the updater owns: `releases/<version>/` (one per installed release), the `current` symlink
   * (the active release; your service runs `<installDir>/current/…`) and `downloads/` (partial downloads).
   * Created if missing; a relative path is taken from the working directory at creation.
   */
  readonly installDir: string;
  /**
   * The argv of the command that reboots the device, e.g. `['sudo', 'systemctl', 'reboot']` (no shell).
   * Default: none: no reboot, the new release is checked at once.
   */
  readonly reboot?: readonly string[];
  /**
   * The argv of a health check run with the new release active (after the reboot, if any), from
   * `installDir`, with `IOT_JOBS_FIRMWARE_VERSION`, `IOT_JOBS_FIRMWARE_PREVIOUS` (empty when none),
   * `IOT_JOBS_FIRMWARE_DIR` and `IOT_JOBS_FIRMWARE_FILE` in its environment. Exit status 0 = healthy; anything
   * else rolls back. Default: none: only checks that `current` points at the new release.
   */
  readonly selfTest?: readonly string[];
  /** Run `reboot` again after a rollback, so that the previous release is what runs. Default false. */
  readonly rebootAfterRollback?: boolean;
  /**
   * URL prefixes images may come from (each an `http(s)://` URL ending with `/`, e.g.
   * `https://my-bucket.s3.eu-west-1.amazonaws.com/firmware/`); other URLs are REJECTED, and redirects must
   * stay within them too. Default: any `https://` URL, and `http://` only for loopback hosts.
   */
  readonly allowedUrlPrefixes?: readonly string[];
  /** CA certificates (PEM) trusted for https downloads instead of Node's list. TLS is always verified. */
  readonly ca?: CaOption;
  /** Longest image accepted (a larger `size` in a document is REJECTED). Default 536 870 912 (512 MiB). */
  readonly maxDownloadBytes?: number;
  /** An attempt with no data for this long is dropped (and retried). Default 60 000 ms. */
  readonly downloadIdleTimeoutMs?: number;
  /** Download attempts for network failures, 5xx, 408, 429; each resumes with a Range request. Default 5. */
  readonly downloadAttempts?: number;
  /** Wait before the second download attempt, doubled each time (at most 60 s). Default 5000 ms. */
  readonly downloadRetryDelayMs?: number;
  /**
   * How long to wait, from running `reboot`, for the device to go down (the runner is stopped by the
   * shutdown). If it is still running then, the release is rolled back and the job FAILED. Default 300 000 ms.
   */
  readonly rebootWaitMs?: number;
  /** Time limit of `selfTest` (its process group is killed). Default 300 000 ms. */
  readonly selfTestTimeoutMs?: number;
  /** Environment of `reboot` and `selfTest` (the variables above are added). Default `process.env`. */
  readonly env?: NodeJS.ProcessEnv;
  /** Every timer (idle timeout, retry delay, reboot wait, command limits). Default `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
}

/** An argv with at least a program. */
export type CommandArgv = readonly [string, ...string[]];

/** Options with defaults applied and checked. */
export interface ResolvedOptions {
  readonly layout: InstallLayout;
  readonly reboot: CommandArgv | undefined;
  readonly selfTest: CommandArgv | undefined;
  readonly rebootAfterRollback: boolean;
  readonly policy: UrlPolicy;
  readonly ca: CaOption | undefined;
  readonly maxDownloadBytes: number;
  readonly downloadIdleTimeoutMs: number;
  readonly downloadAttempts: number;
  readonly downloadRetryDelayMs: number;
  readonly rebootWaitMs: number;
  readonly selfTestTimeoutMs: number;
  readonly env: NodeJS.ProcessEnv;
  readonly scheduler: SchedulerLike;
}

const argv = (name: string, value: readonly string[] | undefined, issues: string[]): CommandArgv | undefined => {
  if (value === undefined) return undefined;
  const [program, ...args] = value;
  if (program === undefined || program === '') {
    issues.push(`${name}: expected an argv with a program first, got ${JSON.stringify(value)}`);
    return undefined;
  }
  if (value.some((part) => part.includes('\0'))) issues.push(`${name}: an argument contains a NUL character`);
  return [program, ...args];
};

const whole = (name: string, value: number | undefined, fallback: number, issues: string[], max = 2_147_483_647): number => {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1 || value > max) issues.push(`${name}: expected a whole number from 1 to ${max}, got ${String(value)}`);
  return value;
};

/** Applies the defaults. Throws InvalidRequestError listing every invalid option. */
export const resolveOptions = (options: FirmwareUpdateOptions): ResolvedOptions => {
  const issues: string[] = [];
  if (options.installDir === '') issues.push('installDir: expected a folder');
  const prefixes = options.allowedUrlPrefixes === undefined ? undefined : checkPrefixes(options.allowedUrlPrefixes);
  if (prefixes !== undefined) issues.push(...prefixes.issues);
  if (prefixes?.prefixes.length === 0 && prefixes.issues.length === 0) issues.push('allowedUrlPrefixes: empty (no URL could be downloaded)');
  const resolved: ResolvedOptions = {
    layout: installLayout(options.installDir),
    reboot: argv('reboot', options.reboot, issues),
    selfTest: argv('selfTest', options.selfTest, issues),
    rebootAfterRollback: options.rebootAfterRollback ?? false,
    policy: urlPolicy(prefixes?.prefixes),
    ca: options.ca,
    maxDownloadBytes: whole('maxDownloadBytes', options.maxDownloadBytes, 512 * 1024 * 1024, issues, Number.MAX_SAFE_INTEGER),
    downloadIdleTimeoutMs: whole('downloadIdleTimeoutMs', options.downloadIdleTimeoutMs, 60_000, issues),
    downloadAttempts: whole('downloadAttempts', options.downloadAttempts, 5, issues, 1000),
    downloadRetryDelayMs: whole('downloadRetryDelayMs', options.downloadRetryDelayMs, 5000, issues),
    rebootWaitMs: whole('rebootWaitMs', options.rebootWaitMs, 300_000, issues),
    selfTestTimeoutMs: whole('selfTestTimeoutMs', options.selfTestTimeoutMs, 300_000, issues),
    env: options.env ?? process.env,
    scheduler: options.scheduler ?? asyncScheduler,
  };
  if (options.rebootAfterRollback === true && resolved.reboot === undefined) issues.push('rebootAfterRollback: needs `reboot`');
  if (issues.length > 0) throw new InvalidRequestError(issues);
  return resolved;
};
