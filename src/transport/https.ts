import * as http from 'node:http';
import * as https from 'node:https';
import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import { type Observable, type SchedulerLike, asyncScheduler, catchError, defer, map, mergeMap, share, take, throwError, throwIfEmpty } from '../rx';
import { just } from '../util/just';
import { parseJson } from '../codecs/decode';
import { HttpErrorBody } from '../codecs/http';
import type { ThingName } from '../codecs/primitives';
import { InvalidRequestError, TransportError, isJobsError, type EventName, type OperationName } from '../errors';
import { operations } from '../operations';
import { randomToken } from '../streams/request';
import { staticCredentials } from './credentials';
import { headerValue, sendHttp, type HttpResponse } from './http-request';
import { pollEvent } from './https-poll';
import { signRequest, type Credentials, type CredentialsProvider } from './sigv4';
import type { Call, EventMessage, JobsTransport, Reply } from './transport';
import { isLoopbackHost } from '../util/loopback';
import { isTimerMs, maxTimerMs } from '../util/timer-limit';

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

/** The exceptions of the iot-jobs-data API (../shared/spec/jobs-api.md §3.3) and the MQTT codes they mean. */
const rejectionCodes: Readonly<Record<string, string>> = {
  ResourceNotFoundException: 'ResourceNotFound',
  InvalidRequestException: 'InvalidRequest',
  InvalidStateTransitionException: 'InvalidStateTransition',
  TerminalStateException: 'TerminalStateReached',
  ThrottlingException: 'RequestThrottled',
  ServiceUnavailableException: 'InternalError',
  CertificateValidationException: 'CertificateValidationException',
};

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

const executionStateOf = (value: unknown): unknown =>
  typeof value === 'object' && value !== null && 'executionState' in value ? value.executionState : undefined;

/**
 * `text` with the request's secrets (its session token and signature, exactly) and anything shaped like them
 * replaced by `(redacted)`.
 */
const redact = (text: string, secrets: readonly string[]): string =>
  secrets
    .filter((secret) => secret.length >= 8)
    .reduce((out, secret) => out.split(secret).join('(redacted)'), text)
    .replace(/(x-amz-security-token\s*[:=]\s*)[^\s&'"\\,]+/giu, '$1(redacted)')
    .replace(/(signature\s*=\s*)[0-9a-f]{16,}/giu, '$1(redacted)');

/**
 * Turns a response into the call's reply: 2xx accepted (unless it names an exception); a Jobs exception
 * rejected, with the body normalised to the MQTT ErrorResponse (`code` mapped, `message`, `clientToken`,
 * `executionState` when sent) and `httpStatus` and `exceptionName` set. Errors: throws TransportError for anything else (a 403 from
 * signing, an unknown exception, a non-2xx reply that names no exception).
 */
export const toReply = (call: Call, response: HttpResponse, secrets: readonly string[] = []): Reply => {
  const { status, text } = response;
  const common = { payload: text, clientToken: call.clientToken, httpStatus: status };
  const parsed = parseJson(text);
  const fields = parsed.ok && HttpErrorBody.is(parsed.value) ? parsed.value : {};
  const errorType = headerValue(response.headers, 'x-amzn-errortype');
  // A 2xx that names an exception (header or `__type`, which no Jobs reply has) is an error, not an empty reply
  // (the reply codecs would read it as "nothing pending", "no execution" or an applied update).
  if (status >= 200 && status < 300 && errorType === undefined && fields.__type === undefined) return { outcome: 'accepted', body: parsed, ...common };
  const raw = errorType ?? fields.code ?? fields.__type;
  const name = raw === undefined ? undefined : exceptionNameOf(raw);
  const message = fields.message ?? fields.Message;
  const code = name !== undefined && status >= 400 && Object.hasOwn(rejectionCodes, name) ? rejectionCodes[name] : undefined;
  if (name === undefined || code === undefined) {
    // AWS's InvalidSignatureException quotes the canonical request, session token included, and
    // IncompleteSignatureException the Authorization header: what was sent is never passed on.
    // Redacted before it is cut: a token cut in two would no longer be found.
    const detail = message === undefined ? redact(text, secrets).slice(0, 200) : redact(message, secrets);
    throw new TransportError(`${call.operation}: HTTP ${status}${name === undefined ? '' : ` ${name}`}${detail === '' ? '' : `: ${detail}`}`, {
      operation: call.operation,
      httpStatus: status,
    });
  }
  const executionState = parsed.ok ? executionStateOf(parsed.value) : undefined;
  const value = { code, message: message ?? '', clientToken: call.clientToken, ...(executionState === undefined ? {} : { executionState }) };
  return { outcome: 'rejected', body: { ok: true, value }, exceptionName: name, ...common };
};

/** What a signed request carries that must not reach an error: its session token and its signature. */
const secretsOf = (headers: Readonly<Record<string, string>>): string[] => {
  const token = headers['x-amz-security-token'];
  const signature = /Signature=([0-9a-f]+)/u.exec(headers['authorization'] ?? '')?.[1];
  return [token, signature].filter((secret): secret is string => secret !== undefined);
};

// An AWS region name: us-east-1, eu-central-2, us-gov-west-1...
const regionName = '[a-z]{2}(?:-[a-z]+)+-\\d{1,2}';
const regionPattern = new RegExp(`(?:^|\\.)jobs\\.iot(?:-fips)?\\.(${regionName})\\.(?:amazonaws\\.com(?:\\.cn)?|api\\.aws)$`, 'u');

const regionNameOnly = new RegExp(`^${regionName}$`, 'u');

/** True for an AWS region name such as `eu-west-1`. */
export const isRegionName = (name: string): boolean => regionNameOnly.test(name);

/** The region in a Jobs endpoint host (`data.jobs.iot.<region>.amazonaws.com`, `<prefix>.jobs.iot.<region>...`). */
export const regionOf = (host: string): string | undefined => regionPattern.exec(host)?.[1];

interface Resolved {
  readonly origin: URL;
  readonly region: string;
  readonly credentials?: CredentialsProvider;
  readonly agent: http.Agent;
}

const resolve = (options: HttpsTransportOptions): Resolved => {
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
  if (issues.length > 0 || origin === undefined) throw new InvalidRequestError(issues);
  // AWS serves device-certificate HTTPS on 8443 (443 lacks the ALPN it would need), unless a port is given:
  // URL drops a default :443, so the text is asked.
  const portGiven = /^(?:https?:\/\/)?(?:\[[^\]]*\]|[^/:?#]*):\d+/iu.test(options.endpoint);
  if (!portGiven && origin.protocol === 'https:' && deviceCertificate && credentials === undefined) origin.port = '8443';
  const ca = tls.ca === undefined || typeof tls.ca === 'string' || Buffer.isBuffer(tls.ca) ? tls.ca : [...tls.ca];
  const ownCheck = options.agent?.checkServerIdentity;
  const agentOptions = {
    keepAlive: true,
    ...options.agent,
    // TLS is always verified, the host name included, whatever the agent options say; a check of the caller's
    // own (certificate pinning) runs after Node's.
    rejectUnauthorized: true,
    checkServerIdentity: (host: string, cert: PeerCertificate): Error | undefined => checkServerIdentity(host, cert) ?? ownCheck?.(host, cert),
    ...(tls.cert === undefined ? {} : { cert: tls.cert }),
    ...(tls.key === undefined ? {} : { key: tls.key }),
    ...(ca === undefined ? {} : { ca }),
  };
  return {
    origin,
    region: region ?? '',
    agent: origin.protocol === 'https:' ? new https.Agent(agentOptions) : new http.Agent(agentOptions),
    ...(credentials === undefined ? {} : { credentials: typeof credentials === 'function' ? credentials : staticCredentials(credentials) }),
  };
};

/** The pause between polls by default: a minute. */
const defaultPollIntervalMs = 60_000;

const credentialsFailure = (error: unknown): TransportError | Error =>
  isJobsError(error) ? error : new TransportError(`cannot get credentials: ${error instanceof Error ? error.message : String(error)}`, { cause: error });

/**
 * The Jobs API over HTTPS (the `iot-jobs-data` REST API): SigV4-signed with `credentials`, or
 * device-certificate TLS with `tls`. Requests go out on node:https with a keep-alive agent and TCP_NODELAY;
 * unsubscribing aborts the request. The two event streams are synthesised by polling (every
 * `pollIntervalMs`, shared by all subscribers of the transport): the first poll is a baseline, then the
 * MQTT event shapes are emitted when the pending set or the next execution changes; after
 * `pollFailureLimit` failed polls in a row a stream errors with TransportError. Errors: throws
 * InvalidRequestError for bad options; requests
 * error with TransportError (network, credentials, non-Jobs HTTP errors such as a 403 for a bad signature),
 * and Jobs exceptions become RejectedError with `httpStatus` and `exceptionName`.
 * @see https://docs.aws.amazon.com/iot/latest/apireference/API_Operations_AWS_IoT_Jobs_Data_Plane.html
 * @example
 * const jobs = createJobsClient({
 *   thingName: 'thing-A',
 *   transport: httpsTransport({ endpoint: 'data.jobs.iot.eu-west-1.amazonaws.com', credentials: environmentCredentials() }),
 * });
 */
export const httpsTransport = (options: HttpsTransportOptions): JobsTransport => {
  const { origin, region, credentials, agent } = resolve(options);
  const scheduler = options.scheduler ?? asyncScheduler;
  const pollIntervalMs = options.pollIntervalMs ?? defaultPollIntervalMs;
  const events = new Map<string, Observable<EventMessage>>();

  const request = (call: Call): Observable<Reply> =>
    defer(() => {
      const { method, path, query, body } = httpCallOf(call);
      const search = Object.entries(query).map(([name, value]) => `${encodePathSegment(name)}=${encodePathSegment(value)}`).join('&');
      const base: Record<string, string> = {
        host: origin.host,
        'user-agent': 'iot-jobs-rx',
        ...(body === undefined ? {} : { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) }),
      };
      const headers$ =
        credentials === undefined
          ? just(base)
          : defer(() => credentials()).pipe(
              take(1),
              throwIfEmpty(() => new TransportError('the credentials provider gave no credentials', { operation: call.operation })),
              mergeMap((keys) => signRequest({ method, path, query, headers: base, ...(body === undefined ? {} : { body }) }, { credentials: keys, region, service: 'iot-jobs-data', now: scheduler.now() })),
              // After the signing too: credentials a provider made up (no secret, say) fail there, untyped.
              catchError((error: unknown) => throwError(() => credentialsFailure(error))),
              map((signed): Record<string, string> => ({ ...base, ...signed })),
            );
      return headers$.pipe(
        mergeMap((headers) =>
          sendHttp({ origin, method, target: search === '' ? path : `${path}?${search}`, headers, agent, operation: call.operation, ...(body === undefined ? {} : { body }) }).pipe(
            map((response) => toReply(call, response, secretsOf(headers))),
          ),
        ),
      );
    });

  return {
    documentEncoding: 'json-string',
    request,
    events: (event: EventName, thingName: ThingName) => {
      const key = `${event}/${thingName}`;
      const existing = events.get(key);
      if (existing) return existing;
      const event$ = pollEvent(event, {
        request,
        thingName,
        scheduler,
        newToken: randomToken,
        intervalMs: pollIntervalMs,
        maxIntervalMs: options.maxPollIntervalMs ?? Math.min(16 * pollIntervalMs, maxTimerMs),
        failureLimit: options.pollFailureLimit ?? 5,
        timeoutMs: options.pollTimeoutMs ?? 10_000,
      }).pipe(share());
      events.set(key, event$);
      return event$;
    },
  };
};
