import type * as t from 'io-ts';
import { decodePayload } from '../../codecs/decode';
import { DecodeError } from '../../errors';
import type { ControlResult } from '../engine/control';
import type { Engine } from '../engine/engine';
import type { HttpFailure } from './respond';
import {
  CancelJobBody,
  CancelJobExecutionBody,
  CreateJobBody,
  DescribeJobExecutionQuery,
  ExecutionLabels,
  ExecutionNumberLabels,
  ForceQuery,
  JobLabels,
  ListExecutionsQuery,
  ListJobsQuery,
  ThingLabels,
} from './control-codecs';
import { executionSummaryView, executionView, jobSummaryView, jobView, thingArnOf } from './control-views';

/**
 * The control-plane operations as data: one row per operation with its restJson1 route (as
 * `@aws-sdk/client-iot` serialises it) and a handler from the decoded call to the engine and back.
 */

/** A routed control-plane request: path labels, query, parsed JSON body (`{}` when empty), engine and clock. */
export interface ControlCall {
  readonly labels: Readonly<Record<string, string>>;
  readonly query: Readonly<Record<string, string>>;
  readonly body: unknown;
  readonly engine: Engine;
  readonly nowMs: number;
}

/** One control-plane operation. */
export interface ControlRoute {
  readonly method: 'GET' | 'PUT' | 'DELETE';
  /** The path as the AWS model writes it, labels in braces: `/jobs/{jobId}`. */
  readonly path: string;
  /** The 200 reply body, or undefined for an empty one; throws {@link ControlFailure}. */
  readonly handle: (call: ControlCall) => unknown;
}

/** An AWS exception a handler answers with (internal to the HTTP binding). */
export class ControlFailure extends Error {
  override readonly name: 'ControlFailure';
  constructor(readonly failure: HttpFailure) {
    super(failure.message);
    this.name = 'ControlFailure';
  }
}

/** A 400 InvalidRequestException. */
export const invalidRequest = (message: string): ControlFailure =>
  new ControlFailure({ exception: 'InvalidRequestException', status: 400, message });

/** Decodes one part of the request; a mismatch is a 400 listing every issue. */
const input = <A>(codec: t.Decoder<unknown, A>, value: unknown): A => {
  try {
    return decodePayload(codec, value, { payload: '' });
  } catch (error) {
    if (error instanceof DecodeError) throw invalidRequest(error.issues.join('; '));
    throw error;
  }
};

const unwrap = <T>(result: ControlResult<T>): T => {
  if (!result.ok) throw new ControlFailure(result);
  return result.value;
};

/** One page of a listing; `nextToken` is the offset of the next page. */
const page = <T>(items: readonly T[], query: { readonly maxResults?: number; readonly nextToken?: number }) => {
  const start = query.nextToken ?? 0;
  const end = query.maxResults === undefined ? items.length : start + query.maxResults;
  return { items: items.slice(start, end), more: end < items.length ? { nextToken: String(end) } : {} };
};

const createJob = ({ labels, body, engine }: ControlCall) => {
  const { jobId } = input(JobLabels, labels);
  const request = input(CreateJobBody, body);
  if (request.document === undefined) throw invalidRequest('document is required (documentSource is not emulated)');
  const job = unwrap(
    engine.createJob({
      jobId,
      targets: request.targets,
      document: request.document,
      ...(request.targetSelection === undefined ? {} : { targetSelection: request.targetSelection }),
      ...(request.description === undefined ? {} : { description: request.description }),
      ...(request.timeoutConfig?.inProgressTimeoutInMinutes === undefined
        ? {}
        : { inProgressTimeoutInMinutes: request.timeoutConfig.inProgressTimeoutInMinutes }),
      ...(request.jobExecutionsRetryConfig === undefined ? {} : { retryCriteria: request.jobExecutionsRetryConfig.criteriaList }),
    }),
  );
  return { jobArn: job.jobArn, jobId: job.jobId, ...(job.description === undefined ? {} : { description: job.description }) };
};

const listJobs = ({ query, engine }: ControlCall) => {
  const filter = input(ListJobsQuery, query);
  const groupFilter = filter.thingGroupName !== undefined || filter.thingGroupId !== undefined;
  const jobs = engine
    .listJobs()
    .filter((job) => !groupFilter && (filter.status === undefined || job.status === filter.status))
    .filter((job) => filter.targetSelection === undefined || job.targetSelection === filter.targetSelection);
  const { items, more } = page(jobs, filter);
  return { jobs: items.map(jobSummaryView), ...more };
};

const cancelJob = ({ labels, query, body, engine }: ControlCall) => {
  const { jobId } = input(JobLabels, labels);
  const { force } = input(ForceQuery, query);
  const job = unwrap(engine.cancelJob(jobId, { ...input(CancelJobBody, body), ...(force === undefined ? {} : { force }) }));
  return { jobArn: job.jobArn, jobId: job.jobId, ...(job.description === undefined ? {} : { description: job.description }) };
};

const listExecutionsForJob = ({ labels, query, engine }: ControlCall) => {
  const { jobId } = input(JobLabels, labels);
  const filter = input(ListExecutionsQuery, query);
  const job = unwrap(engine.describeJob(jobId));
  const executions = unwrap(engine.listExecutionsForJob(jobId)).filter((e) => filter.status === undefined || e.status === filter.status);
  const { items, more } = page(executions, filter);
  return {
    executionSummaries: items.map((e) => ({ thingArn: thingArnOf(job, e.thingName), jobExecutionSummary: executionSummaryView(e) })),
    ...more,
  };
};

const listExecutionsForThing = ({ labels, query, engine }: ControlCall) => {
  const { thingName } = input(ThingLabels, labels);
  const filter = input(ListExecutionsQuery, query);
  const executions = engine
    .listExecutionsForThing(thingName)
    .filter((e) => (filter.status === undefined || e.status === filter.status) && (filter.jobId === undefined || e.jobId === filter.jobId));
  const { items, more } = page(executions, filter);
  return { executionSummaries: items.map((e) => ({ jobId: e.jobId, jobExecutionSummary: executionSummaryView(e) })), ...more };
};

const describeJobExecution = ({ labels, query, engine, nowMs }: ControlCall) => {
  const { jobId, thingName } = input(ExecutionLabels, labels);
  const { executionNumber } = input(DescribeJobExecutionQuery, query);
  const execution = unwrap(engine.describeExecution(jobId, thingName, executionNumber));
  const job = engine.describeJob(jobId);
  return { execution: executionView(execution, job.ok ? job.value : undefined, nowMs) };
};

const cancelJobExecution = ({ labels, query, body, engine }: ControlCall) => {
  const { jobId, thingName } = input(ExecutionLabels, labels);
  const { force } = input(ForceQuery, query);
  unwrap(engine.cancelExecution(jobId, thingName, { ...input(CancelJobExecutionBody, body), ...(force === undefined ? {} : { force }) }));
  return undefined;
};

/** Every control-plane operation the emulator serves, by AWS operation name. */
export const controlRoutes = {
  CreateJob: { method: 'PUT', path: '/jobs/{jobId}', handle: createJob },
  DescribeJob: {
    method: 'GET',
    path: '/jobs/{jobId}',
    handle: ({ labels, engine }) => {
      const { jobId } = input(JobLabels, labels);
      const job = unwrap(engine.describeJob(jobId));
      return { job: jobView(job, unwrap(engine.listExecutionsForJob(jobId))) };
    },
  },
  GetJobDocument: {
    method: 'GET',
    path: '/jobs/{jobId}/job-document',
    handle: ({ labels, engine }) => ({ document: unwrap(engine.describeJob(input(JobLabels, labels).jobId)).document }),
  },
  ListJobs: { method: 'GET', path: '/jobs', handle: listJobs },
  CancelJob: { method: 'PUT', path: '/jobs/{jobId}/cancel', handle: cancelJob },
  DeleteJob: {
    method: 'DELETE',
    path: '/jobs/{jobId}',
    handle: ({ labels, query, engine }) => {
      unwrap(engine.deleteJob(input(JobLabels, labels).jobId, input(ForceQuery, query).force ?? false));
      return undefined;
    },
  },
  ListJobExecutionsForJob: { method: 'GET', path: '/jobs/{jobId}/things', handle: listExecutionsForJob },
  ListJobExecutionsForThing: { method: 'GET', path: '/things/{thingName}/jobs', handle: listExecutionsForThing },
  DescribeJobExecution: { method: 'GET', path: '/things/{thingName}/jobs/{jobId}', handle: describeJobExecution },
  CancelJobExecution: { method: 'PUT', path: '/things/{thingName}/jobs/{jobId}/cancel', handle: cancelJobExecution },
  DeleteJobExecution: {
    method: 'DELETE',
    path: '/things/{thingName}/jobs/{jobId}/executionNumber/{executionNumber}',
    handle: ({ labels, query, engine }) => {
      const { jobId, thingName, executionNumber } = input(ExecutionNumberLabels, labels);
      unwrap(engine.deleteExecution(jobId, thingName, executionNumber, input(ForceQuery, query).force ?? false));
      return undefined;
    },
  },
} satisfies Record<string, ControlRoute>;

/** The name of a control-plane operation the emulator serves. */
export type ControlOperation = keyof typeof controlRoutes;
