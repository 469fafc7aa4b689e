import type * as https from 'node:https';
import type { Observable, SchedulerLike } from '../rx';
import { show } from '../codecs/decode';
import type { ThingName } from '../codecs/primitives';
import { InvalidRequestError, type EventName, type OperationName } from '../errors';
import { operations } from '../operations';
import { staticCredentials } from './credentials';
import type { Credentials, CredentialsProvider } from './sigv4';
import type { Call, EventMessage, JobsTransport } from './transport';
import { isLoopbackHost } from '../util/loopback';
import { copyCa, type CaList } from '../util/ca-list';
import { afterward, startLater } from '../util/later';
import { isTimerMs, maxTimerMs } from '../util/timer-limit';

/**
 * The HTTPS transport's options, routes and the transport itself, whose code (src/transport/https-client.ts)
 * loads when one is made.
 */

/** Device certificate and trust for the HTTPS transport. */
export interface HttpsTlsOptions {
  /**
   * Device certificate (PEM), with `key`: mutual TLS. Without `credentials` this is device-certificate mode
   * (no SigV4, default port 8443); with them, the certificate is presented as well.
   */
  readonly cert?: string | Buffer;
  /** Device private key (PEM). Never logged. */
  readonly key?: string | Buffer;
  /** CA certificates (PEM) to trust instead of Node's default list. */
  readonly ca?: string | Buffer | readonly (string | Buffer)[];
}

/** Options of {@link httpsTransport}. */
export interface HttpsTransportOptions {
  /**
   * The Jobs data endpoint: `data.jobs.iot.<region>.amazonaws.com`, the account's `iot:Jobs` endpoint
   * (`<prefix>.jobs.iot.<region>.amazonaws.com`), or a URL (`https://host:port`; `http://` only to a loopback
   * host, such as the emulator, unless `allowPlainHttp`). Port: 443, or 8443 in device-certificate mode.
   */
  readonly endpoint: string;
  /**
   * Allow an `http://` endpoint on a host other than loopback (an emulator on another machine). Off by
   * default: signatures and session tokens would cross the network in clear.
   */
  readonly allowPlainHttp?: boolean;
  /** Region of the SigV4 scope. Default: read from the endpoint host; required for other hosts. */
  readonly region?: string;
  /** SigV4 credentials (signing name `iot-jobs-data`): fixed keys or a provider, e.g. `iotCredentialsProvider()`. */
  readonly credentials?: Credentials | CredentialsProvider;
  /** Mutual TLS with the device certificate, and the CAs to trust. */
  readonly tls?: HttpsTlsOptions;
  /** Pause between polls of the synthesised event streams. Default 60 000 ms. */
  readonly pollIntervalMs?: number;
  /** Largest pause between polls while throttled. Default 16 × `pollIntervalMs`. */
  readonly maxPollIntervalMs?: number;
  /** Failed polls in a row after which an event stream errors with TransportError. Default 5. */
  readonly pollFailureLimit?: number;
  /** Deadline of one poll. Default 10 000 ms (requests have the client's `timeoutMs`). */
  readonly pollTimeoutMs?: number;
  /** Options of the keep-alive agent (`maxSockets`, `keepAliveMsecs`, ...). Default `{ keepAlive: true }`. */
  readonly agent?: https.AgentOptions;
  /** Clock (signing dates) and timers (polling). Default: the async scheduler (wall clock). */
  readonly scheduler?: SchedulerLike;
}

/** Percent-encodes one path label as the AWS SDK does: encodeURIComponent, plus `!'()*`. */
export const encodePathSegment = (label: string): string =>
  encodeURIComponent(label).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

const jobPath = (call: Call): string => {
  if (call.jobId === undefined) throw new InvalidRequestError([`jobId: ${call.operation} needs one`], { operation: call.operation });
  return `/things/${encodePathSegment(call.thingName)}/jobs/${encodePathSegment(call.jobId)}`;
};

// StartNext's `$next` is literal in the API's path template, so it goes out raw, as the SDK sends it.
const paths: { readonly [K in OperationName]: (call: Call) => string } = {
  getPendingJobExecutions: (call) => `/things/${encodePathSegment(call.thingName)}/jobs`,
  startNextPendingJobExecution: (call) => `/things/${encodePathSegment(call.thingName)}/jobs/$next`,
  describeJobExecution: jobPath,
  updateJobExecution: jobPath,
};

/** One call as an HTTP request (../shared/spec/jobs-api.md §3.2). */
export interface HttpCall {
  readonly method: 'GET' | 'PUT' | 'POST';
  /** The wire path, labels percent-encoded. */
  readonly path: string;
  /** Query parameters, not encoded, in the API's order. */
  readonly query: Readonly<Record<string, string>>;
  /** JSON body of PUT and POST (`{}` when there are no fields). */
  readonly body?: string;
}

const queryValue = (value: unknown): string =>
  typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? String(value) : JSON.stringify(value);

/**
 * Maps a call to its route: the method and query fields from the operation table, the body from the rest
 * of the payload (never `clientToken`, which HTTPS keeps client-side).
 */
export const httpCallOf = (call: Call): HttpCall => {
  const { method, query: queryFields } = operations[call.operation].http;
  const query: Record<string, string> = {};
  for (const name of queryFields) if (call.payload[name] !== undefined) query[name] = queryValue(call.payload[name]);
  const body = Object.fromEntries(Object.entries(call.payload).filter(([name, value]) => name !== 'clientToken' && value !== undefined && !queryFields.includes(name)));
  return { method, path: paths[call.operation](call), query, ...(method === 'GET' ? {} : { body: JSON.stringify(body) }) };
};

/** The exception name as the AWS SDK reads it: `ns#Name:detail` and `Name,Name` give `Name`. */
export const exceptionNameOf = (raw: string): string => {
  const first = raw.split(',')[0]?.split(':')[0] ?? '';
  const at = first.indexOf('#');
  return (at < 0 ? first : first.slice(at + 1)).trim();
};

// An AWS region name: us-east-1, eu-central-2, us-gov-west-1...
const regionName = '[a-z]{2}(?:-[a-z]+)+-\\d{1,2}';
const regionPattern = new RegExp(`(?:^|\\.)jobs\\.iot(?:-fips)?\\.(${regionName})\\.(?:amazonaws\\.com(?:\\.cn)?|api\\.aws)$`, 'u');

const regionNameOnly = new RegExp(`^${regionName}$`, 'u');

/** True for an AWS region name such as `eu-west-1`. */
export const isRegionName = (name: string): boolean => regionNameOnly.test(name);

/** The region in a Jobs endpoint host (`data.jobs.iot.<region>.amazonaws.com`, `<prefix>.jobs.iot.<region>...`). */
export const regionOf = (host: string): string | undefined => regionPattern.exec(host)?.[1];

/** The pause between polls by default: a minute. */
export const defaultPollIntervalMs = 60_000;

/** What {@link checkHttpsOptions} found: where to connect, the SigV4 region (`''` without credentials) and keys. */
export interface CheckedHttpsOptions {
  readonly origin: URL;
  readonly region: string;
  /** The credentials as a provider (fixed keys become one, checked); none in device-certificate mode. */
  readonly credentials?: CredentialsProvider;
  /** `tls.ca` as checked, copied. */
  readonly ca?: CaList;
  /** The options as checked: a copy, with `tls` and `agent` copied too (the caller may change its own). */
  readonly options: HttpsTransportOptions;
}

// What node:http's Agent itself refuses when it is made (Node 20), checked here because the agent is made by the
// code that loads later: `maxTotalSockets` a number of at least 1, `scheduling` fifo or lifo.
const agentIssues = (agent: https.AgentOptions | undefined): string[] => {
  const given: unknown = agent;
  const field = (key: string): unknown => (typeof given === 'object' && given !== null ? Reflect.get(given, key) : undefined);
  const maxTotalSockets = field('maxTotalSockets');
  const scheduling = field('scheduling');
  return [
    ...(maxTotalSockets === undefined || (typeof maxTotalSockets === 'number' && maxTotalSockets >= 1) ? [] : [`agent.maxTotalSockets: expected a number of at least 1, got ${show(maxTotalSockets)}`]),
    ...(scheduling === undefined || scheduling === 'fifo' || scheduling === 'lifo' ? [] : [`agent.scheduling: expected fifo or lifo, got ${show(scheduling)}`]),
  ];
};

/**
 * Checks the options of {@link httpsTransport}, before any I/O and before the transport's code is loaded.
 * Errors: throws InvalidRequestError naming every problem.
 */
export const checkHttpsOptions = (options: HttpsTransportOptions): CheckedHttpsOptions => {
  const { credentials, tls = {} } = options;
  const deviceCertificate = tls.cert !== undefined && tls.key !== undefined;
  let origin: URL | undefined;
  try {
    origin = new URL(options.endpoint.includes('://') ? options.endpoint : `https://${options.endpoint}`);
  } catch {
    origin = undefined;
  }
  const issues: string[] = [];
  if (origin === undefined || (origin.protocol !== 'https:' && origin.protocol !== 'http:')) {
    issues.push(`endpoint: expected a host name or an https:// URL, got ${JSON.stringify(options.endpoint)}`);
  } else if (origin.protocol === 'http:' && options.allowPlainHttp !== true && !isLoopbackHost(origin.hostname)) {
    issues.push(`endpoint: http:// only to a loopback host (or with allowPlainHttp: true), got ${JSON.stringify(options.endpoint)}`);
  }
  if (credentials === undefined && !deviceCertificate) issues.push('credentials: give SigV4 credentials, or tls.cert and tls.key for device-certificate mode');
  if ((tls.cert === undefined) !== (tls.key === undefined)) issues.push('tls: cert and key go together');
  const region = options.region ?? (origin === undefined ? undefined : regionOf(origin.hostname));
  if (credentials !== undefined && region === undefined) issues.push(`region: not given, and the endpoint ${origin?.hostname ?? ''} names none`);
  const { pollIntervalMs, maxPollIntervalMs, pollFailureLimit, pollTimeoutMs } = options;
  // Node runs a timer of 2^31 ms or more after 1 ms.
  for (const [name, value] of Object.entries({ pollIntervalMs, maxPollIntervalMs, pollTimeoutMs })) {
    if (value !== undefined && !isTimerMs(value, 1)) issues.push(`${name}: expected an integer 1-${maxTimerMs} (ms), got ${String(value)}`);
  }
  if (pollFailureLimit !== undefined && !(Number.isInteger(pollFailureLimit) && pollFailureLimit >= 1)) issues.push(`pollFailureLimit: expected a positive integer, got ${String(pollFailureLimit)}`);
  // Throttling must never make polling faster.
  if (maxPollIntervalMs !== undefined && maxPollIntervalMs < (pollIntervalMs ?? defaultPollIntervalMs)) {
    issues.push(`maxPollIntervalMs: expected at least pollIntervalMs (${String(pollIntervalMs ?? defaultPollIntervalMs)}), got ${String(maxPollIntervalMs)}`);
  }
  const { ca, issue: caIssue } = copyCa(tls.ca, 'tls.ca');
  if (caIssue !== undefined) issues.push(caIssue);
  issues.push(...agentIssues(options.agent));
  if (issues.length > 0 || origin === undefined) throw new InvalidRequestError(issues);
  // AWS serves device-certificate HTTPS on 8443 (443 lacks the ALPN it would need), unless a port is given:
  // URL drops a default :443, so the text is asked.
  const portGiven = /^(?:https?:\/\/)?(?:\[[^\]]*\]|[^/:?#]*):\d+/iu.test(options.endpoint);
  if (!portGiven && origin.protocol === 'https:' && deviceCertificate && credentials === undefined) origin.port = '8443';
  // Fixed keys are checked now too (staticCredentials throws InvalidRequestError), not at the first request.
  return {
    origin,
    region: region ?? '',
    ...(credentials === undefined ? {} : { credentials: typeof credentials === 'function' ? credentials : staticCredentials(credentials) }),
    ...(ca === undefined ? {} : { ca }),
    options: { ...options, tls: { ...tls }, ...(options.agent === undefined ? {} : { agent: { ...options.agent } }) },
  };
};

/**
 * The Jobs API over HTTPS (the `iot-jobs-data` REST API): SigV4-signed with `credentials`, or
 * device-certificate TLS with `tls`. Requests go out on node:https with a keep-alive agent and TCP_NODELAY;
 * unsubscribing aborts the request. The two event streams are synthesised by polling (every
 * `pollIntervalMs`, shared by all subscribers of the transport): the first poll is a baseline, then the
 * MQTT event shapes are emitted when the pending set or the next execution changes; after
 * `pollFailureLimit` failed polls in a row a stream errors with TransportError. Errors: throws
 * InvalidRequestError for bad options; requests
 * error with TransportError (network, credentials, non-Jobs HTTP errors such as a 403 for a bad signature),
 * and Jobs exceptions become RejectedError with `httpStatus` and `exceptionName`. The options are checked at
 * once; the transport's own code (node:http and node:https included) loads when it is made, in the
 * background, and a request subscribed before that waits for it.
 * @see https://docs.aws.amazon.com/iot/latest/apireference/API_Operations_AWS_IoT_Jobs_Data_Plane.html
 * @example
 * const jobs = createJobsClient({
 *   thingName: 'thing-A',
 *   transport: httpsTransport({ endpoint: 'data.jobs.iot.eu-west-1.amazonaws.com', credentials: environmentCredentials() }),
 * });
 */
export const httpsTransport = (options: HttpsTransportOptions): JobsTransport => {
  const checked = checkHttpsOptions(options);
  // The transport's own code, node:http and its RxJS operators load now, in the background: a device that
  // talks MQTT never loads them (docs/benchmarks.md, cold start).
  const client = startLater('the HTTPS transport', () => import('./https-client').then((loaded) => loaded.createHttpsTransport(checked)));
  const events = new Map<string, Observable<EventMessage>>();
  return {
    documentEncoding: 'json-string',
    request: (call: Call) => afterward(client, (transport) => transport.request(call)),
    events: (event: EventName, thingName: ThingName) => {
      const key = `${event}/${thingName}`;
      const existing = events.get(key);
      if (existing) return existing;
      const event$ = afterward(client, (transport) => transport.events(event, thingName));
      events.set(key, event$);
      return event$;
    },
  };
};
