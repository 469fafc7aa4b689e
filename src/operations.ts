import type * as t from 'io-ts';
import { encodeRequest } from './codecs/decode';
import type { JobExecutionsChangedEvent, NextJobExecutionChangedEvent } from './codecs/events';
import { JobExecutionsChangedEvent as JobExecutionsChangedEventCodec, nextJobExecutionChangedEvent } from './codecs/events';
import type { DocumentCodec } from './codecs/job-execution';
import type { JobIdOrNext } from './codecs/primitives';
import {
  DescribeJobExecutionRequest,
  GetPendingJobExecutionsRequest,
  StartNextPendingJobExecutionRequest,
  UpdateJobExecutionRequest,
} from './codecs/requests';
import {
  GetPendingJobExecutionsResponse,
  describeJobExecutionResponse,
  startNextPendingJobExecutionResponse,
  updateJobExecutionResponse,
  type DescribeJobExecutionResponse,
  type StartNextPendingJobExecutionResponse,
  type UpdateJobExecutionResponse,
} from './codecs/responses';
import type { EventName, OperationName } from './errors';
import type { JsonObject } from './transport/transport';

/**
 * The four operations and two events as rows of one typed table. One generic pipeline runs every request
 * row (src/streams/request.ts) and one runs every event row (src/streams/events.ts); transports read the
 * routing columns. Adding an operation means adding a row here.
 */

/** Request and response types of each operation, for a job document type `D`. */
export interface OperationTypes<D> {
  getPendingJobExecutions: { request: GetPendingJobExecutionsRequest; response: GetPendingJobExecutionsResponse };
  startNextPendingJobExecution: {
    request: StartNextPendingJobExecutionRequest;
    response: StartNextPendingJobExecutionResponse<D>;
  };
  describeJobExecution: { request: DescribeJobExecutionRequest; response: DescribeJobExecutionResponse<D> };
  updateJobExecution: { request: UpdateJobExecutionRequest; response: UpdateJobExecutionResponse<D> };
}

/** Event types, for a job document type `D`. */
export interface EventTypes<D> {
  jobExecutionsChanged: JobExecutionsChangedEvent;
  nextJobExecutionChanged: NextJobExecutionChangedEvent<D>;
}

/** A request, validated and split into what goes in the topic or path and what goes in the body. */
export interface EncodedRequest {
  readonly jobId?: JobIdOrNext;
  readonly body: JsonObject;
}

/** How the HTTPS API carries an operation (../shared/spec/jobs-api.md §3.2). */
export interface HttpRoute {
  readonly method: 'GET' | 'PUT' | 'POST';
  /** Body fields that travel as query parameters instead (GET has no body). */
  readonly query: readonly string[];
}

/** One request row. */
export interface RequestOperation<K extends OperationName> {
  readonly name: K;
  /** Validates the caller's request (InvalidRequestError before any I/O) and encodes it. */
  readonly encode: (request: OperationTypes<unknown>[K]['request']) => EncodedRequest;
  /** The accepted-reply codec, given the transport's job document codec. */
  readonly response: <D>(document: DocumentCodec<D>) => t.Decoder<unknown, OperationTypes<D>[K]['response']>;
  readonly http: HttpRoute;
}

/** One event row. */
export interface EventOperation<K extends EventName> {
  readonly name: K;
  readonly event: <D>(document: DocumentCodec<D>) => t.Decoder<unknown, EventTypes<D>[K]>;
}

// Splits the validated request: `jobId` goes to the topic or path, the rest (minus undefined) to the body.
const encoderFor =
  <A, O extends object>(codec: t.Type<A, O>, operation: OperationName, jobIdOf?: (value: A) => JobIdOrNext) =>
  (request: unknown): EncodedRequest => {
    const { value, wire } = encodeRequest(codec, request, operation);
    const body: Record<string, unknown> = {};
    for (const [key, field] of Object.entries(wire)) if (key !== 'jobId' && field !== undefined) body[key] = field;
    return jobIdOf === undefined ? { body } : { jobId: jobIdOf(value), body };
  };

/** The request table. */
export const operations: { readonly [K in OperationName]: RequestOperation<K> } = {
  getPendingJobExecutions: {
    name: 'getPendingJobExecutions',
    encode: encoderFor(GetPendingJobExecutionsRequest, 'getPendingJobExecutions'),
    response: () => GetPendingJobExecutionsResponse,
    http: { method: 'GET', query: [] },
  },
  startNextPendingJobExecution: {
    name: 'startNextPendingJobExecution',
    encode: encoderFor(StartNextPendingJobExecutionRequest, 'startNextPendingJobExecution'),
    response: startNextPendingJobExecutionResponse,
    http: { method: 'PUT', query: [] },
  },
  describeJobExecution: {
    name: 'describeJobExecution',
    encode: encoderFor(DescribeJobExecutionRequest, 'describeJobExecution', (r) => r.jobId),
    response: describeJobExecutionResponse,
    http: { method: 'GET', query: ['executionNumber', 'includeJobDocument'] },
  },
  updateJobExecution: {
    name: 'updateJobExecution',
    encode: encoderFor(UpdateJobExecutionRequest, 'updateJobExecution', (r) => r.jobId),
    response: updateJobExecutionResponse,
    http: { method: 'POST', query: [] },
  },
};

/** The event table. */
export const events: { readonly [K in EventName]: EventOperation<K> } = {
  jobExecutionsChanged: { name: 'jobExecutionsChanged', event: () => JobExecutionsChangedEventCodec },
  nextJobExecutionChanged: { name: 'nextJobExecutionChanged', event: nextJobExecutionChangedEvent },
};
