import * as https from 'node:https';
import * as t from 'io-ts';
import { type Observable, type Subscription, asyncScheduler, catchError, defer, map, share, tap, throwError, timeout } from '../rx-https';
import { just } from '../util/just';
import { DecodeError, TransportError } from '../errors';
import { decodeParsed, parseJson } from '../codecs/decode';
import { HttpErrorBody } from '../codecs/http';
import { errorMessage } from '../util/error-message';
import type { CheckedProviderOptions } from './credentials';
import { headerValue, sendHttp, type HttpResponse } from './http-request';
import type { Credentials } from './sigv4';

/** The AWS IoT credentials provider's client, loaded by `iotCredentialsProvider()` (./credentials.ts) when one is made. */

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

/** The provider behind {@link iotCredentialsProvider}, for options it has checked. */
export const fetchingProvider = ({ options, origin, ca }: CheckedProviderOptions): (() => Observable<Credentials>) => {
  const { roleAlias, thingName, timeoutMs = 10_000, retryAfterMs = 30_000, scheduler = asyncScheduler } = options;
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
