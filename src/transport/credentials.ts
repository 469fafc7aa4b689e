import type { Observable, SchedulerLike } from '../rx';
import { InvalidRequestError } from '../errors';
import { isThingName } from '../codecs/primitives';
import { just } from '../util/just';
import { copyCa, type CaList } from '../util/ca-list';
import { afterward, startLater } from '../util/later';
import { isTimerMs, maxTimerMs } from '../util/timer-limit';
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

/** What {@link iotCredentialsProvider} checked: a copy of the options, the endpoint's URL and `ca` as checked. */
export interface CheckedProviderOptions {
  readonly options: IotCredentialsProviderOptions;
  readonly origin: URL;
  readonly ca?: CaList;
}

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
 * alias) when it has no valid credentials to give. The options are checked (and copied) at once; the provider's
 * own code, node:https included, loads when it is made, in the background.
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/authorizing-direct-aws.html
 * @example
 * const credentials = iotCredentialsProvider({ endpoint, roleAlias: 'jobs-role-alias', thingName: 'thing-A', cert, key, ca });
 * const transport = httpsTransport({ endpoint: 'data.jobs.iot.eu-west-1.amazonaws.com', credentials });
 */
export const iotCredentialsProvider = (options: IotCredentialsProviderOptions): (() => Observable<Credentials>) => {
  const origin = endpointUrl(options.endpoint);
  const { roleAlias, thingName, timeoutMs = 10_000, retryAfterMs = 30_000 } = options;
  const issues = [
    ...(origin === undefined ? [`endpoint: expected a host name or an https:// URL, got ${JSON.stringify(options.endpoint)}`] : []),
    ...(/^[\w=,@-]{1,128}$/.test(roleAlias) ? [] : [`roleAlias: expected 1-128 of [A-Za-z0-9_=,@-], got ${JSON.stringify(roleAlias)}`]),
    ...(thingName === undefined || isThingName(thingName) ? [] : [`thingName: expected 1-128 of [a-zA-Z0-9:_-], got ${JSON.stringify(thingName)}`]),
    ...Object.entries({ timeoutMs, retryAfterMs })
      .filter(([, value]) => !isTimerMs(value, 1))
      .map(([name, value]) => `${name}: expected an integer 1-${maxTimerMs}, got ${String(value)}`),
  ];
  const { ca, issue: caIssue } = copyCa(options.ca, 'ca');
  if (caIssue !== undefined) issues.push(caIssue);
  if (issues.length > 0 || origin === undefined) throw new InvalidRequestError(issues);
  // What was checked, copied (`ca` as checked): the caller may change its own object after this.
  const checked = { options: { ...options }, origin, ...(ca === undefined ? {} : { ca }) };
  // The provider's code, node:https and its RxJS operators load now, in the background (src/util/later.ts).
  const provider = startLater('the credentials provider', () => import('./iot-credentials').then((loaded) => loaded.fetchingProvider(checked)));
  return () => afterward(provider, (fetch) => fetch());
};
