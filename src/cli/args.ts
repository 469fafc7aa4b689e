import { InvalidArgumentError } from 'commander';
import { maxTimerMs } from '../util/timer-limit';
import { DeviceStatus } from '../codecs/job-execution';
import { StatusDetails, StepTimeoutInMinutes, UpdateStepTimeoutInMinutes, isJobId } from '../codecs/primitives';

/**
 * Parsers of flag and argument values. Each throws commander's InvalidArgumentError, which the CLI reports
 * as bad usage (exit 2) before anything is sent.
 */


/** A job id (1–64 of `[a-zA-Z0-9_-]`). */
export const jobIdArg = (value: string): string => {
  if (!isJobId(value)) throw new InvalidArgumentError(`expected a job id (1-64 of [a-zA-Z0-9_-]), got ${JSON.stringify(value)}`);
  return value;
};

/** A job id or `$next`. */
export const jobIdOrNextArg = (value: string): string => (value === '$next' ? value : jobIdArg(value));

/** A status a device may report; case-insensitive. */
export const deviceStatusArg = (value: string): DeviceStatus => {
  const status = value.toUpperCase();
  if (!DeviceStatus.is(status)) throw new InvalidArgumentError(`expected one of ${Object.keys(DeviceStatus.keys).join(', ')}, got ${JSON.stringify(value)}`);
  return status;
};

/** A non-negative safe integer (execution numbers, versions). */
export const naturalArg = (value: string): number => {
  const n = /^\d{1,15}$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n)) throw new InvalidArgumentError(`expected a non-negative integer, got ${JSON.stringify(value)}`);
  return n;
};

/** A whole number of milliseconds, 1 to 2^31-1. */
export const millisecondsArg = (value: string): number => {
  const n = /^\d{1,10}$/.test(value) ? Number(value) : Number.NaN;
  if (!(n >= 1 && n <= maxTimerMs)) throw new InvalidArgumentError(`expected milliseconds, 1-${maxTimerMs}, got ${JSON.stringify(value)}`);
  return n;
};

/** `stepTimeoutInMinutes` of StartNext: 1–10080. */
export const stepTimeoutArg = (value: string): number => {
  const n = /^\d{1,5}$/.test(value) ? Number(value) : Number.NaN;
  if (!StepTimeoutInMinutes.is(n)) throw new InvalidArgumentError(`expected minutes, 1-10080, got ${JSON.stringify(value)}`);
  return n;
};

/** `stepTimeoutInMinutes` of Update: 1–10080, or -1 to stop the step timer. */
export const updateStepTimeoutArg = (value: string): number => {
  const n = /^(?:-1|\d{1,5})$/.test(value) ? Number(value) : Number.NaN;
  if (!UpdateStepTimeoutInMinutes.is(n)) throw new InvalidArgumentError(`expected minutes, 1-10080, or -1, got ${JSON.stringify(value)}`);
  return n;
};

/** `statusDetails` as a JSON object of strings, within the service's key and value limits. */
export const statusDetailsArg = (value: string): StatusDetails => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new InvalidArgumentError('not valid JSON; expected an object of strings, e.g. {"step":"download"}');
  }
  if (!StatusDetails.is(parsed)) {
    throw new InvalidArgumentError('expected a JSON object of strings: keys 1-128 of [a-zA-Z0-9:_-], values 1-1024 characters without control characters');
  }
  return parsed;
};
