import * as http from 'node:http';
import * as https from 'node:https';
import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import { type Observable, asyncScheduler, catchError, defer, map, mergeMap, share, take, throwError, throwIfEmpty } from '../rx-https';
import { just } from '../util/just';
import { parseJson } from '../codecs/decode';
import { HttpErrorBody } from '../codecs/http';
import type { ThingName } from '../codecs/primitives';
import { TransportError, isJobsError, type EventName } from '../errors';
import { randomToken } from '../streams/request';
import { headerValue, sendHttp, type HttpResponse } from './http-request';
import { defaultPollIntervalMs, encodePathSegment, exceptionNameOf, httpCallOf, type CheckedHttpsOptions } from './https';
import { pollEvent } from './https-poll';
import { signRequest } from './sigv4';
import type { Call, EventMessage, JobsTransport, Reply } from './transport';
import { maxTimerMs } from '../util/timer-limit';

/** The HTTPS transport's code, loaded by `httpsTransport()` (src/transport/https.ts) when one is made. */

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

/** The keep-alive agent: TLS always verified, with the device certificate when there is one. */
const agentFor = ({ options, origin, ca }: CheckedHttpsOptions): http.Agent => {
  const { tls = {} } = options;
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
  return origin.protocol === 'https:' ? new https.Agent(agentOptions) : new http.Agent(agentOptions);
};

const credentialsFailure = (error: unknown): TransportError | Error =>
  isJobsError(error) ? error : new TransportError(`cannot get credentials: ${error instanceof Error ? error.message : String(error)}`, { cause: error });

/** The transport behind {@link httpsTransport}, for options it has checked. */
export const createHttpsTransport = (checked: CheckedHttpsOptions): JobsTransport => {
  const { origin, region, credentials, options } = checked;
  const agent = agentFor(checked);
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
