import { closeSync, createWriteStream, fsyncSync, openSync, rmSync, statSync } from 'node:fs';
import type { ClientRequest, IncomingMessage } from 'node:http';
import { Transform, pipeline } from 'node:stream';
import { type Observable, type SchedulerLike, type Subscription, Observable as Stream, retry, throwError, timer } from '../../rx-extra';
import { redactUrl } from './document';
import { type CaOption, contentRange, count, get, unsatisfiedTotal } from './http-get';
import type { UrlPolicy } from './url-policy';

/**
 * A resumable HTTP(S) download into a `.part` file. If the file already holds N bytes (an earlier attempt,
 * or a run before a restart) it asks for `Range: bytes=N-` and appends; a 206 must answer with a
 * `Content-Range` starting at N. A 200 (the server ignored the Range), a 416 that does not say the file is
 * exactly N bytes, or a 206 for another range start over from byte 0. TLS is always verified; redirects are
 * followed (at most 5) only to URLs the policy accepts. Time goes through the scheduler.
 */

/** What {@link download} needs. */
export interface DownloadOptions {
  readonly url: string;
  /** The `.part` file: resumed when it exists. */
  readonly file: string;
  /** The exact size the job document promises, if any. */
  readonly expectedSize: number | undefined;
  /** Refuse (and stop) a download longer than this. */
  readonly maxBytes: number;
  readonly ca: CaOption | undefined;
  /** Stop an attempt after this long without a byte. */
  readonly idleTimeoutMs: number;
  /** Attempts in all, for network failures, 5xx, 408 and 429 (each resumes where the last one stopped). */
  readonly attempts: number;
  /** Wait before the second attempt, doubled for each further one (at most 60 s). */
  readonly retryDelayMs: number;
  readonly policy: UrlPolicy;
  readonly signal: AbortSignal;
  readonly scheduler: SchedulerLike;
}

/** What {@link download} emits: progress, then one `complete`. */
export type DownloadEvent =
  | { readonly kind: 'progress'; readonly received: number; readonly total: number | undefined }
  | { readonly kind: 'complete'; readonly size: number };

/** A download failed; `retriable` when another attempt may succeed. */
export class DownloadError extends Error {
  override readonly name: 'DownloadError';
  constructor(
    message: string,
    readonly retriable: boolean,
    options?: { readonly cause?: unknown },
  ) {
    super(message, options);
    this.name = 'DownloadError';
  }
}

const networkCodes = new Set(['ECONNRESET', 'ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EPIPE', 'ECONNABORTED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN', 'ERR_STREAM_PREMATURE_CLOSE']);
const redirects = new Set([301, 302, 303, 307, 308]);
const maxRedirects = 5;
const mebibyte = 1024 * 1024;

// Not `instanceof Error`: errors from Node's core may come from another realm (vm contexts, Jest).
const codeOf = (error: unknown): unknown => (typeof error === 'object' && error !== null && 'code' in error ? error.code : undefined);

const classify = (error: unknown, url: URL): DownloadError => {
  if (error instanceof DownloadError) return error;
  const code = codeOf(error);
  const message = typeof error === 'object' && error !== null && 'message' in error && typeof error.message === 'string' ? error.message : String(error);
  return new DownloadError(`downloading ${redactUrl(url)} failed: ${message}`, typeof code === 'string' && networkCodes.has(code), { cause: error });
};

const sizeOf = (file: string): number => {
  try {
    return statSync(file).size;
  } catch (error) {
    if (codeOf(error) === 'ENOENT') return 0;
    throw error;
  }
};

const fsyncFile = (file: string): void => {
  const fd = openSync(file, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
};

/** One attempt; see the file comment. */
const attempt = (options: DownloadOptions): Observable<DownloadEvent> =>
  new Stream<DownloadEvent>((subscriber) => {
    const { file, expectedSize, maxBytes, scheduler, signal } = options;
    const limit = Math.min(expectedSize ?? maxBytes, maxBytes);
    let request: ClientRequest | undefined;
    let idle: Subscription | undefined;
    let closed = false;
    const streams: { destroy(): void }[] = [];
    const cleanUp = (): void => {
      closed = true;
      idle?.unsubscribe();
      request?.destroy();
      for (const stream of streams.splice(0)) stream.destroy();
      signal.removeEventListener('abort', onAbort);
    };
    const fail = (error: DownloadError): void => {
      if (closed) return;
      cleanUp();
      subscriber.error(error);
    };
    const done = (size: number): void => {
      if (closed) return;
      cleanUp();
      subscriber.next({ kind: 'complete', size });
      subscriber.complete();
    };
    const onAbort = (): void => {
      fail(new DownloadError('the download was aborted', false));
    };
    const armIdle = (url: URL): void => {
      idle?.unsubscribe();
      idle = timer(options.idleTimeoutMs, scheduler).subscribe(() => {
        fail(new DownloadError(`no data from ${url.host} for ${options.idleTimeoutMs} ms`, true));
      });
    };
    const startOver = (url: URL, hops: number): void => {
      rmSync(file, { force: true });
      requestFrom(url, 0, hops, true);
    };

    const write = (url: URL, response: IncomingMessage, start: number, total: number | undefined, hops: number, fresh: boolean): void => {
      if (expectedSize !== undefined && total !== undefined && total !== expectedSize) {
        fail(new DownloadError(`the server's file is ${total} bytes, the job document says ${expectedSize}`, false));
        return;
      }
      if (total !== undefined && total > maxBytes) {
        fail(new DownloadError(`the file is ${total} bytes, more than the limit of ${maxBytes}`, false));
        return;
      }
      let received = start;
      let reported = -1;
      const report = (): void => {
        const mark = total === undefined ? Math.floor(received / mebibyte) : Math.floor((received * 100) / Math.max(total, 1));
        if (mark === reported) return;
        reported = mark;
        subscriber.next({ kind: 'progress', received, total });
      };
      report();
      const meter = new Transform({
        transform: (chunk: Buffer, _encoding, callback) => {
          received += chunk.length;
          if (received > limit) {
            callback(new DownloadError(`the download is longer than ${limit} bytes (${expectedSize === undefined ? 'the size limit' : 'the size in the job document'})`, false));
            return;
          }
          armIdle(url);
          report();
          callback(null, chunk);
        },
      });
      const out = createWriteStream(file, { flags: start === 0 ? 'w' : 'a' });
      streams.push(response, meter, out);
      pipeline(response, meter, out, (error) => {
        if (closed) return;
        // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- undefined (not null) on success, whatever the typings say
        if (error !== null && error !== undefined) {
          fail(classify(error, url));
          return;
        }
        try {
          fsyncFile(file);
        } catch (syncError) {
          fail(classify(syncError, url));
          return;
        }
        const size = total ?? expectedSize;
        // A server may answer a range with less than the rest of the file: ask for the rest.
        if (size !== undefined && received < size) {
          if (received > start) requestFrom(url, received, hops, fresh);
          else fail(new DownloadError(`${url.host} ended the download after ${received} of ${size} bytes`, true));
          return;
        }
        done(received);
      });
    };

    const onResponse = (url: URL, from: number, hops: number, fresh: boolean, response: IncomingMessage): void => {
      if (closed) {
        response.destroy();
        return;
      }
      const status = response.statusCode ?? 0;
      const { location } = response.headers;
      if (redirects.has(status) && location !== undefined) {
        response.resume();
        if (hops >= maxRedirects) {
          fail(new DownloadError(`more than ${maxRedirects} redirects from ${redactUrl(options.url)}`, false));
          return;
        }
        let next: URL;
        try {
          next = new URL(location, url);
        } catch {
          fail(new DownloadError(`invalid redirect from ${redactUrl(url)}: the Location header is not a URL`, false));
          return;
        }
        requestFrom(next, from, hops + 1, fresh);
        return;
      }
      const length = count(response.headers['content-length']);
      if (status === 200) {
        write(url, response, 0, length, hops, true);
        return;
      }
      if (status === 206) {
        const range = contentRange(response.headers['content-range']);
        if (range !== undefined && range.start === from && range.end >= range.start) {
          write(url, response, from, range.total ?? (length === undefined ? undefined : from + length), hops, fresh);
          return;
        }
        response.resume();
        if (fresh) fail(new DownloadError(`${url.host} answered with a Content-Range that does not match the request: ${String(response.headers['content-range'])}`, false));
        else startOver(url, hops);
        return;
      }
      if (status === 416 && from > 0) {
        response.resume();
        // Already complete (the run before a restart got every byte); the checksum has the last word.
        if (unsatisfiedTotal(response.headers['content-range']) === from) done(from);
        else startOver(url, hops);
        return;
      }
      response.resume();
      fail(new DownloadError(`HTTP ${status} from ${redactUrl(url)}`, status >= 500 || status === 408 || status === 429));
    };

    const requestFrom = (url: URL, from: number, hops: number, fresh: boolean): void => {
      if (closed) return;
      const refused = options.policy(url);
      if (refused !== undefined) {
        fail(new DownloadError(`download refused: ${refused}`, false));
        return;
      }
      armIdle(url);
      request?.destroy();
      try {
        request = get(url, from > 0 ? { range: `bytes=${from}-` } : {}, options.ca, (response) => {
          // Runs in an HTTP callback: anything thrown here would be an uncaught exception and end the process.
          try {
            onResponse(url, from, hops, fresh, response);
          } catch (error) {
            response.destroy();
            fail(classify(error, url));
          }
        });
      } catch (error) {
        fail(classify(error, url));
        return;
      }
      request.on('error', (error) => {
        fail(classify(error, url));
      });
      request.end();
    };

    if (signal.aborted) {
      onAbort();
      return cleanUp;
    }
    signal.addEventListener('abort', onAbort, { once: true });
    const url = new URL(options.url);
    let offset: number;
    try {
      offset = sizeOf(file);
      // Longer than the file can be: not ours to resume.
      if (offset > limit) {
        rmSync(file, { force: true });
        offset = 0;
      }
    } catch (error) {
      fail(classify(error, url));
      return cleanUp;
    }
    if (expectedSize !== undefined && offset === expectedSize) done(offset);
    else requestFrom(url, offset, 0, offset === 0);
    return cleanUp;
  });

/**
 * Downloads `url` into `file`, resuming what is there; retries network failures, 5xx, 408 and 429 with
 * backoff (each attempt resumes). Emits progress (about once per percent, or per MiB when the size is
 * unknown) and then `complete`. Errors: DownloadError. The file is fsynced before `complete`.
 */
export const download = (options: DownloadOptions): Observable<DownloadEvent> =>
  attempt(options).pipe(
    retry({
      count: Math.max(0, options.attempts - 1),
      delay: (error: unknown, n: number) =>
        error instanceof DownloadError && error.retriable && !options.signal.aborted
          ? timer(Math.min(options.retryDelayMs * 2 ** (n - 1), 60_000), options.scheduler)
          : throwError(() => error),
    }),
  );
