import * as t from 'io-ts';
import { JobExecutionState, JobExecutionSummary, jobExecution, type DocumentCodec } from './job-execution';
import { onePass } from './one-pass';
import { EpochSeconds } from './primitives';

/**
 * Accepted replies of the four operations and the rejected ErrorResponse, as tolerant readers. The same
 * codecs read MQTT and HTTPS replies: HTTPS has no `timestamp` or `clientToken`, and its job document is a
 * string, which the transport's document codec parses (see `httpDocument`).
 */

/** A codec that reads a missing value as a fresh `fallback()`. */
export const withDefault = <A, O>(codec: t.Type<A, O>, fallback: () => A): t.Type<A, O> =>
  new t.Type(codec.name, codec.is, (u, c) => (u === undefined ? t.success(fallback()) : codec.validate(u, c)), codec.encode);

/** Fields every MQTT reply carries. */
const replyMeta = { timestamp: EpochSeconds, clientToken: t.string };

/** GetPendingJobExecutions accepted reply; both lists are always present (empty when nothing is pending). */
export const GetPendingJobExecutionsResponse = onePass(
  t.intersection(
    [
      t.type({
        inProgressJobs: withDefault(t.array(JobExecutionSummary), () => []),
        queuedJobs: withDefault(t.array(JobExecutionSummary), () => []),
      }),
      t.partial(replyMeta),
    ],
    'GetPendingJobExecutionsResponse',
  ),
);
export type GetPendingJobExecutionsResponse = t.TypeOf<typeof GetPendingJobExecutionsResponse>;

/** An accepted reply that may carry one execution (StartNext and Describe); absent when nothing matched. */
const executionReply = <D>(document: DocumentCodec<D>, name: string) =>
  onePass(t.intersection([t.type({}), t.partial({ execution: jobExecution(document), ...replyMeta })], name));

/** StartNextPendingJobExecution accepted reply; no `execution` when nothing is pending. */
export const startNextPendingJobExecutionResponse = <D>(document: DocumentCodec<D>) =>
  executionReply(document, 'StartNextPendingJobExecutionResponse');
/** StartNextPendingJobExecution's reply, decoded: `execution` (the one started) absent when nothing was pending. */
export type StartNextPendingJobExecutionResponse<D = unknown> = t.TypeOf<
  ReturnType<typeof startNextPendingJobExecutionResponse<D>>
>;

/** DescribeJobExecution accepted reply; no `execution` when `$next` finds nothing pending. */
export const describeJobExecutionResponse = <D>(document: DocumentCodec<D>) =>
  executionReply(document, 'DescribeJobExecutionResponse');
/** DescribeJobExecution's reply, decoded: `execution` absent when `$next` finds nothing pending. */
export type DescribeJobExecutionResponse<D = unknown> = t.TypeOf<ReturnType<typeof describeJobExecutionResponse<D>>>;

/** UpdateJobExecution accepted reply; `executionState` and `jobDocument` only when asked for. */
export const updateJobExecutionResponse = <D>(document: DocumentCodec<D>) =>
  onePass(
    t.intersection(
      [t.type({}), t.partial({ executionState: JobExecutionState, jobDocument: document, ...replyMeta })],
      'UpdateJobExecutionResponse',
    ),
  );
/** UpdateJobExecution's reply, decoded: `executionState` and `jobDocument` only when the request asked for them. */
export type UpdateJobExecutionResponse<D = unknown> = t.TypeOf<ReturnType<typeof updateJobExecutionResponse<D>>>;

/** The rejection codes AWS documents; the service may add more, so `code` decodes as any string. */
export const RejectedErrorCode = t.keyof(
  {
    InvalidTopic: null,
    InvalidJson: null,
    InvalidRequest: null,
    InvalidStateTransition: null,
    ResourceNotFound: null,
    VersionMismatch: null,
    InternalError: null,
    RequestThrottled: null,
    TerminalStateReached: null,
  },
  'RejectedErrorCode',
);
export type RejectedErrorCode = t.TypeOf<typeof RejectedErrorCode>;

/** True when `code` is one of the documented {@link RejectedErrorCode}s. */
export const isKnownRejectedErrorCode = (code: string): code is RejectedErrorCode => RejectedErrorCode.is(code);

/** The ErrorResponse on `…/rejected`. */
export const RejectedResponse = onePass(
  t.intersection(
    [t.type({ code: t.string, message: withDefault(t.string, () => '') }), t.partial({ executionState: JobExecutionState, ...replyMeta })],
    'RejectedResponse',
  ),
);
export type RejectedResponse = t.TypeOf<typeof RejectedResponse>;
