import * as t from 'io-ts';
import { DeviceStatus } from './job-execution';
import {
  ClientToken,
  ExpectedVersion,
  JobId,
  JobIdOrNext,
  Long,
  StatusDetails,
  StepTimeoutInMinutes,
  UpdateStepTimeoutInMinutes,
} from './primitives';

/**
 * The four request payloads. Exact codecs: unknown keys are stripped, so only these fields reach the wire.
 * `jobId` belongs to the topic (MQTT) or path (HTTPS), never to the body; `clientToken` is minted by the
 * request pipeline. The emulator decodes what devices send with these same codecs.
 */

/** GetPendingJobExecutions request. */
export const GetPendingJobExecutionsRequest = t.exact(t.partial({ clientToken: ClientToken }), 'GetPendingJobExecutionsRequest');

/** StartNextPendingJobExecution request. */
export const StartNextPendingJobExecutionRequest = t.exact(
  t.partial({ statusDetails: StatusDetails, stepTimeoutInMinutes: StepTimeoutInMinutes, clientToken: ClientToken }),
  'StartNextPendingJobExecutionRequest',
);

/** DescribeJobExecution request; `jobId` may be `$next`. */
export const DescribeJobExecutionRequest = t.exact(
  t.intersection([
    t.type({ jobId: JobIdOrNext }),
    t.partial({ executionNumber: Long, includeJobDocument: t.boolean, clientToken: ClientToken }),
  ]),
  'DescribeJobExecutionRequest',
);

/** UpdateJobExecution request; a device may only send IN_PROGRESS, SUCCEEDED, FAILED or REJECTED. */
export const UpdateJobExecutionRequest = t.exact(
  t.intersection([
    t.type({ jobId: JobId, status: DeviceStatus }),
    t.partial({
      statusDetails: StatusDetails,
      expectedVersion: ExpectedVersion,
      executionNumber: Long,
      includeJobExecutionState: t.boolean,
      includeJobDocument: t.boolean,
      stepTimeoutInMinutes: UpdateStepTimeoutInMinutes,
      clientToken: ClientToken,
    }),
  ]),
  'UpdateJobExecutionRequest',
);

// What callers write: the wire shape with plain strings (the codec checks the brands), minus the token.
type CallerRequest<C extends t.Mixed> = Omit<t.OutputOf<C>, 'clientToken'>;

/** Options of GetPendingJobExecutions: none (the pipeline adds the clientToken). */
export type GetPendingJobExecutionsRequest = Readonly<Record<string, never>>;
/** Options of StartNextPendingJobExecution. */
export type StartNextPendingJobExecutionRequest = CallerRequest<typeof StartNextPendingJobExecutionRequest>;
/** Options of DescribeJobExecution. */
export type DescribeJobExecutionRequest = CallerRequest<typeof DescribeJobExecutionRequest>;
/** Options of UpdateJobExecution. */
export type UpdateJobExecutionRequest = CallerRequest<typeof UpdateJobExecutionRequest>;
