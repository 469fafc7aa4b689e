import * as https from 'node:https';
import * as t from 'io-ts';
import { type Observable, type SchedulerLike, type Subscription, asyncScheduler, catchError, defer, map, share, tap, throwError, timeout } from '../rx';
import { just } from '../util/just';
import { DecodeError, InvalidRequestError, TransportError } from '../errors';
import { decodeParsed, parseJson } from '../codecs/decode';
import { HttpErrorBody } from '../codecs/http';
import { isThingName } from '../codecs/primitives';
import { isTimerMs, maxTimerMs } from '../util/timer-limit';
import { errorMessage } from '../util/error-message';
import { headerValue, sendHttp, type HttpResponse } from './http-request';
import type { Credentials } from './sigv4';

/**
 * Credentials providers for the HTTPS transport: fixed keys, the standard environment variables, and the
 * AWS IoT credentials provider, which trades the device certificate for temporary credentials of a role
 * (../shared/spec/aws-iot-connection.md §11).
 */

// Typed, but a JavaScript caller may pass anything: refused here, not as a TypeError from the signer later.
const checkKeys = (credentials: Credentials, where: string): void => {
  const given: unknown = credentials;
  const field = (key: string): unknown => (typeof given === 'object' && given !== null ? Reflect.get(given, key) : undefined);
  const issues = [
    ...['accessKeyId', 'secretAccessKey'].filter((key) => typeof field(key) !== 'string' || field(key) === '').map((key) => `${where}${key}: must be a non-empty string`),
    ...(field('sessionToken') === undefined || typeof field('sessionToken') === 'string' ? [] : [`${where}sessionToken: must be a string`]),
  ];
  if (issues.length > 0) throw new InvalidRequestError(issues);
};

/**
 * Always the same credentials. Errors: throws InvalidRequestError at once when a key is empty.
 * @example
 * httpsTransport({ endpoint, credentials: staticCredentials({ accessKeyId, secretAccessKey }) });
 */
export const staticCredentials = (credentials: Credentials): (() => Observable<Credentials>) => {
  checkKeys(credentials, 'credentials.');
  return () => just(credentials);
};

/**
 * The credentials in `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and (optional) `AWS_SESSION_TOKEN`, read
 * once, now. Errors: throws InvalidRequestError naming the missing variables.
 */
export const environmentCredentials = (env: Readonly<Record<string, string | undefined>> = process.env): (() => Observable<Credentials>) => {
  const accessKeyId = env['AWS_ACCESS_KEY_ID'] ?? '';
  const secretAccessKey = env['AWS_SECRET_ACCESS_KEY'] ?? '';
  const sessionToken = env['AWS_SESSION_TOKEN'] ?? '';
  const missing = [
    ['AWS_ACCESS_KEY_ID', accessKeyId],
    ['AWS_SECRET_ACCESS_KEY', secretAccessKey],
  ].flatMap(([name = '', value]) => (value === '' ? [`${name}: not set (environmentCredentials needs it)`] : []));
  if (missing.length > 0) throw new InvalidRequestError(missing);
  return staticCredentials({ accessKeyId, secretAccessKey, ...(sessionToken === '' ? {} : { sessionToken }) });
};

/** Options of {@link iotCredentialsProvider}. */
export interface IotCredentialsProviderOptions {
  /**
   * The account's credentials endpoint (`aws iot describe-endpoint --endpoint-type iot:CredentialProvider`),
   * e.g. `c1a2b3.credentials.iot.eu-west-1.amazonaws.com`, or an `https://host:port` URL.
   */
  readonly endpoint: string;
  /** The role alias whose role the credentials are for. */
  readonly roleAlias: string;
  /** Sent as `x-amzn-iot-thingname`, needed when policies use thing variables. Default: not sent. */
  readonly thingName?: string;
  /** Device certificate (PEM) for mutual TLS. */
  readonly cert: string | Buffer;
  /** Device private key (PEM). Never logged. */
  readonly key: string | Buffer;
  /** CA certificates (PEM) to trust instead of Node's default list. */
  readonly ca?: string | Buffer | readonly (string | Buffer)[];
  /** Deadline of one credentials request. Default 10 000 ms. */
  readonly timeoutMs?: number;
  /**
   * After a failed refresh, keep the still-valid credentials this long before trying again; with none held,
   * the longest wait between attempts (1 s after the first failure, doubling). Default 30 000 ms.
   */
  readonly retryAfterMs?: number;
  /** Clock and timers. Default: the async scheduler (wall clock). */
  readonly scheduler?: SchedulerLike;
}

/** An ISO 8601 date-time on the wire, a `Date` in the domain. */
const IsoDate = new t.Type<Date, string, unknown>(
  'IsoDate',
  (u): u is Date => u instanceof Date,
  (u, c) => {
    const ms = typeof u === 'string' ? Date.parse(u) : Number.NaN;
    return Number.isNaN(ms) ? t.failure(u, c, 'expected an ISO 8601 date-time') : t.success(new Date(ms));
  },
  (d) => d.toISOString(),
);

/** The credentials provider's reply. */
const IotCredentialsResponse = t.type(
  { credentials: t.type({ accessKeyId: t.string, secretAccessKey: t.string, sessionToken: t.string, expiration: IsoDate }) },
  'IotCredentialsResponse',
);

/** Refresh at 80 % of the lifetime, and at least this long before the expiry. */
const refreshLeadMs = 5 * 60_000;
/** Credentials closer than this to their expiry are not used any more (clock skew, requests in flight). */
const expiryMarginMs = 30_000;

interface Cached {
  readonly credentials: Credentials;
  readonly refreshAt: number;
  readonly usableUntil: number;
}

const cacheEntry = (credentials: Credentials, now: number): Cached => {
  const expires = credentials.expiration?.getTime() ?? Number.POSITIVE_INFINITY;
  const lifetime = expires - now;
  return { credentials, refreshAt: now + Math.max(0, Math.min(0.8 * lifetime, lifetime - refreshLeadMs)), usableUntil: expires - expiryMarginMs };
};

const readCredentials = (response: HttpResponse): Credentials => {
  const parsed = parseJson(response.text);
  if (response.status !== 200) {
    const body = parsed.ok && HttpErrorBody.is(parsed.value) ? parsed.value : {};
    const type = headerValue(response.headers, 'x-amzn-errortype')?.split(':')[0];
    // Never the body itself: a proxy's odd status may come with the credentials in it.
    const message = body.message ?? body.Message ?? '(no message)';
    throw new TransportError(`the credentials provider answered ${response.status}${type === undefined ? '' : ` ${type}`}: ${message}`, { httpStatus: response.status });
  }
  try {
    return decodeParsed(IotCredentialsResponse, parsed, { payload: response.text }).credentials;
  } catch (error) {
    if (!(error instanceof DecodeError)) throw error;
    // The DecodeError carries the raw body and each issue the value it saw: secrets, both. Only the paths and
    // what was expected go out, and no cause.
    const where = error.issues.map((issue) => issue.replace(/, got .*$/su, ''));
    throw new TransportError(`the credentials provider's reply is unreadable: ${where.join('; ')}`, { httpStatus: response.status });
  }
};

const endpointUrl = (endpoint: string): URL | undefined => {
  try {
    const url = new URL(endpoint.includes('://') ? endpoint : `https://${endpoint}`);
    return url.protocol === 'https:' ? url : undefined;
  } catch {
    return undefined;
  }
};

/**
 * Temporary credentials from the AWS IoT credentials provider: `GET /role-aliases/{alias}/credentials`
 * over mutual TLS with the device certificate. Cached: fetched on first use, fetched again at 80 % of their
 * lifetime (at least 5 minutes before the expiry) in the background, while callers go on with the held ones;
 * concurrent callers share one request; while a refresh fails, the old credentials are used until 30 s
 * before they expire, and the next attempt waits `retryAfterMs`. With no credentials held, a failed fetch
 * is retried 1 s later, then 2 s, 4 s, ... up to `retryAfterMs`; meanwhile callers get its error at once
 * (`no credentials: ... (not asked again for N ms)`), without a request. `timeoutMs` (default 10 000) and
 * `retryAfterMs` (default 30 000) are integers 1–2147483647. Errors: throws InvalidRequestError for bad options; the provider errors with
 * TransportError (`httpStatus` set for an HTTP refusal, e.g. 403 for a certificate not allowed the role
 * alias) when it has no valid credentials to give.
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/authorizing-direct-aws.html
 * @example
 * const credentials = iotCredentialsProvider({ endpoint, roleAlias: 'jobs-role-alias', thingName: 'thing-A', cert, key, ca });
 * const transport = httpsTransport({ endpoint: 'data.jobs.iot.eu-west-1.amazonaws.com', credentials });
 */
export const iotCredentialsProvider = (options: IotCredentialsProviderOptions): (() => Observable<Credentials>) => {
  const origin = endpointUrl(options.endpoint);
  const { roleAlias, thingName, timeoutMs = 10_000, retryAfterMs = 30_000, scheduler = asyncScheduler } = options;
  const issues = [
    ...(origin === undefined ? [`endpoint: expected a host name or an https:// URL, got ${JSON.stringify(options.endpoint)}`] : []),
    ...(/^[\w=,@-]{1,128}$/.test(roleAlias) ? [] : [`roleAlias: expected 1-128 of [A-Za-z0-9_=,@-], got ${JSON.stringify(roleAlias)}`]),
    ...(thingName === undefined || isThingName(thingName) ? [] : [`thingName: expected 1-128 of [a-zA-Z0-9:_-], got ${JSON.stringify(thingName)}`]),
    ...Object.entries({ timeoutMs, retryAfterMs })
      .filter(([, value]) => !isTimerMs(value, 1))
      .map(([name, value]) => `${name}: expected an integer 1-${maxTimerMs}, got ${String(value)}`),
  ];
  if (issues.length > 0 || origin === undefined) throw new InvalidRequestError(issues);
  const ca = options.ca === undefined || typeof options.ca === 'string' || Buffer.isBuffer(options.ca) ? options.ca : [...options.ca];
  const agent = new https.Agent({ keepAlive: true, cert: options.cert, key: options.key, ...(ca === undefined ? {} : { ca }) });
  const headers = { host: origin.host, accept: 'application/json', ...(thingName === undefined ? {} : { 'x-amzn-iot-thingname': thingName }) };
  const exchange = { origin, method: 'GET', target: `/role-aliases/${roleAlias}/credentials`, headers, agent };
  let cached: Cached | undefined;
  // After a failed background refresh (credentials held), when to try again.
  let retryAt = Number.NEGATIVE_INFINITY;
  // Failed fetches in a row while no credentials were held, the last of them (what callers get meanwhile),
  // and until when nobody asks again.
  let failures = 0;
  let lastFailure: TransportError | undefined;
  let backOffUntil = Number.NEGATIVE_INFINITY;
  const usable = (): Cached | undefined => (cached !== undefined && scheduler.now() < cached.usableUntil ? cached : undefined);
  // One request however many callers wait. It runs to its own end (a reply or `timeoutMs`) even when every
  // caller gave up on it (a request deadline shorter than `timeoutMs`): a later caller joins it rather than
  // start another, and its outcome is recorded, here before `share()`, once per request.
  const refresh$ = sendHttp(exchange).pipe(
    timeout({ first: timeoutMs, scheduler, with: () => throwError(() => new TransportError(`no reply from the credentials provider ${origin.host} within ${timeoutMs} ms`)) }),
    map(readCredentials),
    // Credentials already too close to their expiry to use (a device clock ahead, a very short role duration)
    // are a failed fetch: backed off, not fetched again for every request.
    map((credentials) => {
      const entry = cacheEntry(credentials, scheduler.now());
      if (scheduler.now() < entry.usableUntil) return entry;
      const expiry = credentials.expiration?.toISOString() ?? '';
      throw new TransportError(`the credentials provider gave credentials that expire at ${expiry}, within 30 s of this device's clock (is it right?)`);
    }),
    tap({
      next: (entry) => {
        cached = entry;
        failures = 0;
        lastFailure = undefined;
        backOffUntil = Number.NEGATIVE_INFINITY;
      },
      error: (error: unknown) => {
        const now = scheduler.now();
        // With credentials held, the next try waits retryAfterMs; with none, 1 s, doubling up to retryAfterMs.
        if (usable() !== undefined) {
          retryAt = now + retryAfterMs;
          return;
        }
        failures += 1;
        lastFailure = error instanceof TransportError ? error : new TransportError(`the credentials provider failed: ${errorMessage(error)}`);
        backOffUntil = now + Math.min(retryAfterMs, 1000 * 2 ** Math.min(failures - 1, 30));
      },
    }),
    share({ resetOnRefCountZero: false }),
  );
  const refreshed$ = refresh$.pipe(
    map((entry) => entry.credentials),
    catchError((error: unknown) => {
      const still = usable();
      return still === undefined ? throwError(() => error) : just(still.credentials);
    }),
  );
  // A refresh started while the held credentials are still good runs on its own: no request waits for it
  // (a provider that hangs must not fail requests that have valid credentials).
  let background: Subscription | undefined;
  return () =>
    defer(() => {
      const held = usable();
      if (held === undefined) {
        const wait = backOffUntil - scheduler.now();
        if (lastFailure === undefined || wait <= 0) return refreshed$;
        const { message, httpStatus } = lastFailure;
        return throwError(() => new TransportError(`no credentials: ${message} (not asked again for ${Math.ceil(wait)} ms)`, { ...(httpStatus === undefined ? {} : { httpStatus }) }));
      }
      if (scheduler.now() >= held.refreshAt && scheduler.now() >= retryAt && (background === undefined || background.closed)) {
        background = refreshed$.subscribe({ error: () => undefined });
      }
      return just(held.credentials);
    });
};
