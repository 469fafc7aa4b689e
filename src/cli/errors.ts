import { CommanderError } from 'commander';
import { RejectedError } from '../errors';
import { errorCode } from '../util/error-message';

/**
 * Bad configuration found before any I/O: a config file that cannot be read or has wrong keys, an invalid
 * thing name or endpoint, a missing certificate. The CLI exits with code 2. Messages name the flag,
 * variable or file key, never a secret's value.
 */
export class ConfigError extends Error {
  override readonly name: 'ConfigError';

  constructor(...args: ConstructorParameters<typeof Error>) {
    super(...args);
    this.name = 'ConfigError';
  }
}

/** Names of the errors that mean bad usage or configuration (exit code 2). */
const usageErrors: ReadonlySet<string> = new Set(['ConfigError', 'InvalidRequestError', 'StateFileError']);

// Not `instanceof Error`: errors from Node's own modules belong to another realm under test runners.
const isErrorLike = (error: unknown): error is Error =>
  typeof error === 'object' && error !== null && 'name' in error && 'message' in error && typeof error.name === 'string' && typeof error.message === 'string';

/** The exit code for an error: 0 for `--help`, 2 for bad usage or configuration, 1 for a failure while running. */
export const exitCodeOf = (error: unknown): number => {
  if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
  return isErrorLike(error) && usageErrors.has(error.name) ? 2 : 1;
};

/** `RejectedError: <code>: <message>` for a rejection, `<Name>: <message>` for the rest. */
const headline = (error: Error): string => {
  if (error instanceof RejectedError) {
    const prefix = `${error.operation ?? 'request'} rejected: ${error.code}: `;
    const text = error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
    return `${error.name}: ${error.code}: ${text}`;
  }
  return `${error.name}: ${error.message}`;
};

/** `text` on one line, with control characters escaped (a message may quote what a broker or a user sent). */
export const oneLine = (text: string): string =>
  text.replace(/\r?\n\s*/gu, ' ').replace(/\p{Cc}/gu, (ch) => `\\u${(ch.codePointAt(0) ?? 0).toString(16).padStart(4, '0')}`);

/** The error as the CLI prints it: `iot-jobs: Name: message`, one line; with `verbose`, the stack after it. */
export const formatError = (error: unknown, verbose: boolean): string => {
  if (!isErrorLike(error)) return `iot-jobs: ${oneLine(String(error))}\n`;
  // One line, and no terminal control codes: a message may quote what a broker or a user sent.
  const line = `iot-jobs: ${oneLine(headline(error))}\n`;
  const frames = verbose ? (error.stack ?? '').split('\n').filter((frame) => /^\s+at /.test(frame)) : [];
  return frames.length === 0 ? line : `${line}${frames.join('\n')}\n`;
};

/** The `code` of a Node system error (`ENOENT`, `EACCES`), without relying on `instanceof` (realms differ under test runners). */
export const errnoCode = (error: unknown): string => errorCode(error, 'unreadable');
