import * as http from 'node:http';
import * as https from 'node:https';
import { Observable } from '../rx';
import { TransportError, type EventName, type OperationName } from '../errors';

/**
 * One HTTP exchange on node:http / node:https as a cold Observable: subscribing sends the request,
 * unsubscribing before the reply destroys it (and its socket). node:http with a keep-alive agent rather than
 * `fetch`: measured 1.5–2× faster for these small requests (../shared/spec/dependencies.md §7).
 */

/** Largest response body read: 1 MiB (Jobs replies are a few KB; a job document is at most 32 KB). */
export const maxResponseBytes = 1_048_576;

/** A request to send. */
export interface HttpExchange {
  /** Scheme, host and port; the rest of the URL is ignored. */
  readonly origin: URL;
  readonly method: string;
  /** Path and query, exactly as sent. */
  readonly target: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
  /** Keep-alive agent: an `https.Agent` for `https:` origins (it carries the TLS options). */
  readonly agent: http.Agent;
  /** For error messages: what the request is for. */
  readonly operation?: OperationName | EventName;
}

/** A complete reply. */
export interface HttpResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  /** The body as UTF-8 text. */
  readonly text: string;
}

/** The value of a header (a repeated one joined by commas). */
export const headerValue = (headers: http.IncomingHttpHeaders, name: string): string | undefined => {
  const value = Object.hasOwn(headers, name) ? headers[name] : undefined;
  return Array.isArray(value) ? value.join(',') : value;
};

/**
 * Sends `exchange` once per subscription and emits its reply, whatever the status, then completes.
 * Errors: TransportError on a socket or TLS error, a connection closed mid-reply, or a body over
 * {@link maxResponseBytes}.
 */
export const sendHttp = (exchange: HttpExchange): Observable<HttpResponse> =>
  new Observable<HttpResponse>((subscriber) => {
    const { origin, method, operation } = exchange;
    const where = `${method} ${origin.host}${exchange.target.split('?')[0] ?? ''}`;
    let done = false;
    const fail = (message: string, cause?: unknown): void => {
      if (done) return;
      done = true;
      subscriber.error(new TransportError(`${where}: ${message}`, { ...(operation === undefined ? {} : { operation }), ...(cause === undefined ? {} : { cause }) }));
    };
    const options: http.RequestOptions = {
      protocol: origin.protocol,
      hostname: origin.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: origin.port === '' ? (origin.protocol === 'https:' ? 443 : 80) : Number(origin.port),
      method,
      path: exchange.target,
      headers: exchange.headers,
      agent: exchange.agent,
    };
    const onResponse = (res: http.IncomingMessage): void => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size <= maxResponseBytes) chunks.push(chunk);
        else {
          fail(`reply body exceeds ${maxResponseBytes} bytes`);
          req.destroy();
        }
      });
      res.on('end', () => {
        if (done) return;
        done = true;
        subscriber.next({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') });
        subscriber.complete();
      });
      res.on('error', (error) => {
        fail(`reply failed: ${error.message}`, error);
      });
      res.on('close', () => {
        if (!res.complete) fail('connection closed before the reply ended');
      });
    };
    let req: http.ClientRequest;
    try {
      req = origin.protocol === 'https:' ? https.request(options, onResponse) : http.request(options, onResponse);
    } catch (error) {
      // e.g. a certificate or key that is not PEM: node throws before any I/O.
      fail(error instanceof Error ? error.message : String(error), error);
      return undefined;
    }
    // Without TCP_NODELAY each small request can wait ~40 ms for Nagle's algorithm.
    req.setNoDelay(true);
    req.on('error', (error) => {
      fail(error.message, error);
    });
    req.end(exchange.body);
    return () => {
      if (done) return;
      done = true;
      req.destroy();
    };
  });
