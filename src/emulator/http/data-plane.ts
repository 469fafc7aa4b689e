import type * as http from 'node:http';
import * as t from 'io-ts';
import { decodePayload, parseJson, show } from '../../codecs/decode';
import { httpDocument } from '../../codecs/http';
import { JobExecutionState } from '../../codecs/job-execution';
import { isThingName } from '../../codecs/primitives';
import { DescribeJobExecutionRequest, StartNextPendingJobExecutionRequest, UpdateJobExecutionRequest } from '../../codecs/requests';
import {
  GetPendingJobExecutionsResponse,
  describeJobExecutionResponse,
  startNextPendingJobExecutionResponse,
  updateJobExecutionResponse,
  type RejectedErrorCode,
} from '../../codecs/responses';
import { DecodeError } from '../../errors';
import type { OperationName } from '../../errors';
import { openGate, type DeviceGate } from '../device-gate';
import type { Engine } from '../engine/engine';
import type { Result } from '../engine/types';
import { credentialsReply, isCredentialsTarget, type CredentialsEndpointOptions } from './credentials-endpoint';
import { authenticate, authorize, type Principal } from './data-plane-auth';
import { readBody, sendFailure, sendJson, type HttpFailure } from './respond';
import type { SigV4Credentials } from './sigv4-verify';

/**
 * The emulator's `iot-jobs-data` HTTP API (../shared/spec/jobs-api.md §3.2): the four device operations as
 * restJson1 routes, SigV4 checked, bodies decoded with the client's request codecs and replies encoded with
 * its response codecs (job document as a JSON string, timestamps as whole epoch seconds).
 */

/** Options of {@link dataPlaneHandler}. */
export interface DataPlaneOptions {
  readonly engine: Engine;
  /** The key pair SigV4 signatures must be made with. */
  readonly credentials: SigV4Credentials;
  /** The clock, epoch milliseconds: signature dates are checked against it and the `Date` header shows it. */
  readonly now: () => number;
  /** Check SigV4 signatures (and device certificates). Default true; false lets every request through. */
  readonly verify?: boolean;
  /**
   * Accept a client certificate signed by the server's CA in place of SigV4, for the thing its CN names
   * only (else 403 ForbiddenException); an untrusted one is 400 CertificateValidationException. The HTTPS
   * server must ask for certificates: `requestCert: true, rejectUnauthorized: false, ca`. Default false.
   */
  readonly deviceCertificates?: boolean;
  /** Also serve the AWS IoT credentials provider, `GET /role-aliases/{alias}/credentials` (mutual TLS). Default: not served. */
  readonly credentialsProvider?: Pick<CredentialsEndpointOptions, 'roleAliases' | 'credentialDurationSeconds'>;
  /** Largest request body read. Default {@link maxDataPlaneBodyBytes}. */
  readonly maxBodyBytes?: number;
  /** Rate limit and injected faults for device requests (../device-gate.ts). Default: every request served. */
  readonly gate?: DeviceGate;
}

/**
 * Largest request body the data plane reads: 128 KB, the MQTT payload limit. The HTTPS limit of the real
 * service is not documented; a larger body gets 413.
 */
export const maxDataPlaneBodyBytes = 128 * 1024;

/** The SigV4 signing name of the API. */
export const dataPlaneSigningName = 'iot-jobs-data';

const failure = (exception: string, status: number, message: string): HttpFailure => ({ exception, status, message });
const invalid = (message: string): HttpFailure => failure('InvalidRequestException', 400, message);

/** The HTTP exception each engine rejection code becomes (../shared/spec/jobs-api.md §3.3). */
const exceptions: Readonly<Record<RejectedErrorCode, { readonly exception: string; readonly status: number }>> = {
  InvalidTopic: { exception: 'InvalidRequestException', status: 400 },
  InvalidJson: { exception: 'InvalidRequestException', status: 400 },
  InvalidRequest: { exception: 'InvalidRequestException', status: 400 },
  ResourceNotFound: { exception: 'ResourceNotFoundException', status: 404 },
  InvalidStateTransition: { exception: 'InvalidStateTransitionException', status: 409 },
  // UNCONFIRMED: the model has no HTTP exception for VersionMismatch; 409 InvalidStateTransitionException
  // is the likeliest (../shared/spec/jobs-api.md §3.3, §8.5).
  VersionMismatch: { exception: 'InvalidStateTransitionException', status: 409 },
  TerminalStateReached: { exception: 'TerminalStateException', status: 410 },
  RequestThrottled: { exception: 'ThrottlingException', status: 429 },
  InternalError: { exception: 'ServiceUnavailableException', status: 503 },
};

/** A route of the API, with its decoded path labels. */
type Route =
  | { readonly operation: 'getPendingJobExecutions' | 'startNextPendingJobExecution'; readonly thingName: string }
  | { readonly operation: 'describeJobExecution'; readonly thingName: string; readonly jobId: string; readonly query: URLSearchParams }
  | { readonly operation: 'updateJobExecution'; readonly thingName: string; readonly jobId: string };

const decodeSegment = (segment: string): string | undefined => {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
};

/**
 * Matches `method target` to an operation. Path labels are percent-decoded, so `$next` may come raw (as the
 * SDK sends StartNext) or as `%24next` (as it sends Describe).
 */
const matchRoute = (method: string, target: string): Route | HttpFailure => {
  const at = target.indexOf('?');
  const pathname = at < 0 ? target : target.slice(0, at);
  const unknown = failure('UnknownOperationException', 404, `No operation of the iot-jobs-data API matches ${method} ${pathname}`);
  const [empty, things, rawThing, jobs, rawJob, ...rest] = pathname.split('/');
  if (empty !== '' || things !== 'things' || rawThing === undefined || jobs !== 'jobs' || rest.length > 0) return unknown;
  const thingName = decodeSegment(rawThing);
  const jobId = rawJob === undefined ? undefined : decodeSegment(rawJob);
  if (thingName === undefined || (jobId === undefined && rawJob !== undefined)) return invalid(`The path ${pathname} is not valid percent-encoding`);
  let route: Route | undefined;
  if (jobId === undefined) route = method === 'GET' ? { operation: 'getPendingJobExecutions', thingName } : undefined;
  else if (method === 'PUT' && jobId === '$next') route = { operation: 'startNextPendingJobExecution', thingName };
  else if (method === 'GET') route = { operation: 'describeJobExecution', thingName, jobId, query: new URLSearchParams(at < 0 ? '' : target.slice(at + 1)) };
  else if (method === 'POST') route = { operation: 'updateJobExecution', thingName, jobId };
  if (route === undefined) return unknown;
  return isThingName(thingName) ? route : invalid(`thingName: expected 1-128 of [a-zA-Z0-9:_-], got ${show(thingName)}`);
};

const isFailure = (value: unknown): value is HttpFailure => typeof value === 'object' && value !== null && 'exception' in value;

/** Decodes a request with the client's codec; a failure lists the codec's issues. */
const decodeRequest = <A>(codec: t.Decoder<unknown, A>, value: unknown, payload: string, operation: OperationName): A | HttpFailure => {
  try {
    return decodePayload(codec, value, { payload, operation });
  } catch (error) {
    if (error instanceof DecodeError) return invalid(error.issues.join('; '));
    throw error;
  }
};

/** A PUT or POST body: a JSON object (an empty body counts as `{}`). */
const objectBody = (text: string): object | HttpFailure => {
  if (text.trim() === '') return {};
  const parsed = parseJson(text);
  if (!parsed.ok) return invalid(`Request body is not valid JSON: ${parsed.message}`);
  const body = parsed.value;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return invalid('Request body must be a JSON object');
  // The request codecs are the MQTT ones, which check a clientToken; the HTTPS API has none, and ignores it as it
  // ignores any member it does not model (jobs-api.md §1).
  return Object.fromEntries(Object.entries(body).filter(([key]) => key !== 'clientToken'));
};

/**
 * Describe's query as request fields: `executionNumber` as a number, `includeJobDocument` as a boolean.
 * Values that do not convert stay strings, so the request codec refuses them with its usual message.
 */
const describeQuery = (query: URLSearchParams): Record<string, unknown> | HttpFailure => {
  const fields: Record<string, unknown> = {};
  for (const name of ['executionNumber', 'includeJobDocument']) {
    const values = query.getAll(name);
    const [value] = values;
    if (values.length > 1) return invalid(`${name} is given ${values.length} times`);
    if (value === undefined) continue;
    if (name === 'executionNumber') fields[name] = /^-?\d{1,16}$/.test(value) ? Number(value) : value;
    else fields[name] = value === 'true' ? true : value === 'false' ? false : value;
  }
  return fields;
};

/** A reply: 200 with a body, or an AWS error (a 409 also carries the execution's state, as the guide shows). */
type Reply = { readonly ok: true; readonly body: unknown } | { readonly ok: false; readonly failure: HttpFailure; readonly executionState?: unknown };

const accepted = (body: unknown): Reply => ({ ok: true, body });
const refused = (failure: HttpFailure): Reply => ({ ok: false, failure });

const settle = <T>(result: Result<T>, encode: (value: T) => unknown): Reply => {
  if (result.ok) return accepted(encode(result.value));
  const { exception, status } = exceptions[result.code];
  return {
    ok: false,
    failure: { exception, status, message: result.message },
    ...(result.executionState === undefined ? {} : { executionState: JobExecutionState.encode(result.executionState) }),
  };
};

const Document = httpDocument(t.unknown);
const startNextResponse = startNextPendingJobExecutionResponse(Document);
const describeResponse = describeJobExecutionResponse(Document);
const updateResponse = updateJobExecutionResponse(Document);

/** Runs one routed request on the engine. HTTP executions carry `thingName`, as the AWS CLI examples show. */
const answer = (engine: Engine, route: Route, text: string): Reply => {
  const { thingName } = route;
  const withThing = <V extends { execution?: object }>(value: V): V =>
    value.execution === undefined ? value : { ...value, execution: { ...value.execution, thingName } };
  switch (route.operation) {
    case 'getPendingJobExecutions':
      return accepted(GetPendingJobExecutionsResponse.encode(engine.getPendingJobExecutions(thingName)));
    case 'startNextPendingJobExecution': {
      const body = objectBody(text);
      if (isFailure(body)) return refused(body);
      const request = decodeRequest(StartNextPendingJobExecutionRequest, body, text, route.operation);
      if (isFailure(request)) return refused(request);
      return settle(engine.startNextPendingJobExecution(thingName, request), (value) => startNextResponse.encode(withThing(value)));
    }
    case 'describeJobExecution': {
      const query = describeQuery(route.query);
      if (isFailure(query)) return refused(query);
      const request = decodeRequest(DescribeJobExecutionRequest, { ...query, jobId: route.jobId }, '', route.operation);
      if (isFailure(request)) return refused(request);
      return settle(engine.describeJobExecution(thingName, request), (value) => describeResponse.encode(withThing(value)));
    }
    case 'updateJobExecution': {
      const body = objectBody(text);
      if (isFailure(body)) return refused(body);
      const request = decodeRequest(UpdateJobExecutionRequest, { ...body, jobId: route.jobId }, text, route.operation);
      if (isFailure(request)) return refused(request);
      return settle(engine.updateJobExecution(thingName, request), (value) => updateResponse.encode(value));
    }
  }
};

/** Authorises a routed request and runs it through the gate; undefined when it ran but its reply is lost. */
const gated = (options: DataPlaneOptions, principal: Principal, route: Route, text: string): Reply | undefined => {
  const forbidden = authorize(principal, route.thingName);
  if (forbidden !== undefined) return refused(forbidden);
  const verdict = (options.gate ?? openGate)(route);
  if (verdict.action === 'throttle') return refused({ ...exceptions.RequestThrottled, message: verdict.message });
  const reply = answer(options.engine, route, text);
  return verdict.action === 'drop' ? undefined : reply;
};

const serve = async (options: DataPlaneOptions, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
  const method = req.method ?? 'GET';
  const target = req.url ?? '/';
  const body = await readBody(req, options.maxBodyBytes ?? maxDataPlaneBodyBytes);
  if (!body.ok) {
    sendFailure(res, options.now(), body.failure);
    return;
  }
  const { credentials, now, credentialsProvider } = options;
  if (credentialsProvider !== undefined && isCredentialsTarget(target)) {
    const reply = credentialsReply(req, { ...credentialsProvider, credentials, now });
    if (reply.ok) sendJson(res, now(), 200, reply.body);
    else sendFailure(res, now(), reply.failure);
    return;
  }
  const signed = { method, path: target, headers: req.headers, body: body.text };
  const auth = await authenticate(req, signed, { credentials, now, service: dataPlaneSigningName, verify: options.verify ?? true, deviceCertificates: options.deviceCertificates ?? false });
  if (!auth.ok) {
    sendFailure(res, now(), auth.failure);
    return;
  }
  const route = matchRoute(method, target);
  const reply = isFailure(route) ? refused(route) : gated(options, auth.principal, route, body.text);
  if (reply === undefined) {
    // A lost reply: the request ran; the client sees its connection reset.
    res.destroy();
    return;
  }
  if (reply.ok) sendJson(res, now(), 200, reply.body);
  else if (reply.executionState === undefined) sendFailure(res, now(), reply.failure);
  else {
    const { exception, status, message } = reply.failure;
    sendJson(res, now(), status, { message, executionState: reply.executionState }, { 'x-amzn-ErrorType': exception });
  }
};

/**
 * A `node:http` request listener serving the iot-jobs-data API on `options.engine`. Errors are AWS restJson1
 * errors: the status, `x-amzn-ErrorType: <Exception>`, `x-amzn-RequestId` and `{"message"}`; a bad
 * signature is 403. With `deviceCertificates`, a trusted client certificate stands in for SigV4
 * (./data-plane-auth.ts); with `credentialsProvider`, `/role-aliases/...` is the credentials provider.
 * Every reply carries `Date` from `options.now()`, which the AWS SDK uses to correct its clock skew. It
 * never throws: an unexpected failure answers 503 ServiceUnavailableException.
 * @see https://docs.aws.amazon.com/iot/latest/apireference/API_Operations_AWS_IoT_Jobs_Data_Plane.html
 */
export const dataPlaneHandler =
  (options: DataPlaneOptions) =>
  (req: http.IncomingMessage, res: http.ServerResponse): void => {
    serve(options, req, res).catch((error: unknown) => {
      try {
        if (res.headersSent) res.destroy();
        else sendFailure(res, options.now(), failure('ServiceUnavailableException', 503, `Internal error: ${error instanceof Error ? error.message : 'unknown'}`));
      } catch {
        res.destroy();
      }
    });
  };
