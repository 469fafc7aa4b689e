import * as t from 'io-ts';
import { parseJson, show } from '../../codecs/decode';
import { JobExecutionStatus } from '../../codecs/job-execution';
import { StatusDetails } from '../../codecs/primitives';

/**
 * Request codecs of the emulator's control plane (the `iot` restJson1 API that `@aws-sdk/client-iot`
 * speaks): JSON bodies, path labels and query strings. Bodies are tolerant of fields the emulator ignores,
 * but refuse the ones whose behaviour it does not emulate, so a test never passes by accident.
 */

/** A whole number written in a path label or query string, within `min`..`max`. */
const integerFromString = (name: string, min: number, max: number): t.Type<number, string> =>
  new t.Type<number, string, unknown>(
    name,
    (u): u is number => typeof u === 'number' && Number.isSafeInteger(u) && u >= min && u <= max,
    (u, c) => {
      const n = typeof u === 'string' && /^\d{1,15}$/.test(u) ? Number(u) : Number.NaN;
      return n >= min && n <= max ? t.success(n) : t.failure(u, c, `expected a whole number from ${min} to ${max}, got ${show(u)}`);
    },
    String,
  );

/** A whole JSON number within `min`..`max`. */
const integer = (name: string, min: number, max: number) =>
  t.refinement(t.number, (n) => Number.isSafeInteger(n) && n >= min && n <= max, name);

/** A string of at most `max` characters matching `pattern`. */
const text = (name: string, max: number, pattern: RegExp) => t.refinement(t.string, (s) => s.length <= max && pattern.test(s), name);

/** A field the emulator refuses: present means InvalidRequestException, with the reason as the issue line. */
const notEmulated = new t.Type<undefined, undefined, unknown>(
  'NotEmulated',
  (u): u is undefined => u === undefined,
  (u, c) => (u === undefined || u === null ? t.success(undefined) : t.failure(u, c, 'is not emulated by the iot-jobs-rx emulator')),
  () => undefined,
);

/** `true` or `false` in a query string. */
export const BooleanFromString = new t.Type<boolean, string, unknown>(
  'BooleanFromString',
  t.boolean.is,
  (u, c) => (u === 'true' ? t.success(true) : u === 'false' ? t.success(false) : t.failure(u, c, `expected true or false, got ${show(u)}`)),
  String,
);

/** `executionNumber` in a path label or query string. */
export const ExecutionNumberFromString = integerFromString('ExecutionNumber', 0, Number.MAX_SAFE_INTEGER);

/** `maxResults` of the List operations: 1 to 250. */
export const MaxResults = integerFromString('MaxResults', 1, 250);

/** `nextToken` of the List operations: the emulator's tokens are offsets into the listing. */
export const NextToken = integerFromString('NextToken', 0, Number.MAX_SAFE_INTEGER);

/** A job document: a JSON text of at most 32768 characters, kept exactly as sent. */
export const JobDocumentText = new t.Type<string, string, unknown>(
  'JobDocument',
  t.string.is,
  (u, c) => {
    if (typeof u !== 'string') return t.failure(u, c, `expected a JSON string, got ${show(u)}`);
    if (u.length > 32_768) return t.failure(u, c, 'job document longer than 32768 characters');
    const parsed = parseJson(u);
    return parsed.ok ? t.success(u) : t.failure(u, c, `not JSON: ${parsed.message}`);
  },
  (s) => s,
);

/** Job-level statuses, as ListJobs filters them. */
export const JobStatusFilter = t.keyof(
  { IN_PROGRESS: null, CANCELED: null, COMPLETED: null, DELETION_IN_PROGRESS: null, SCHEDULED: null },
  'JobStatus',
);

/** `targetSelection`. */
export const TargetSelection = t.keyof({ SNAPSHOT: null, CONTINUOUS: null }, 'TargetSelection');

/** One `jobExecutionsRetryConfig.criteriaList` entry. */
export const RetryCriteria = t.type(
  { failureType: t.keyof({ FAILED: null, TIMED_OUT: null, ALL: null }, 'RetryableFailureType'), numberOfRetries: integer('NumberOfRetries', 0, 10) },
  'RetryCriteria',
);

/** The body of CreateJob (the jobId is the path label). */
export const CreateJobBody = t.intersection(
  [
    t.type({ targets: t.array(t.string, 'JobTargets') }),
    t.partial({
      document: JobDocumentText,
      description: text('JobDescription', 2028, /^[^\p{C}]*$/u),
      targetSelection: TargetSelection,
      timeoutConfig: t.partial({ inProgressTimeoutInMinutes: integer('InProgressTimeoutInMinutes', 1, 10_080) }),
      jobExecutionsRetryConfig: t.type({ criteriaList: t.array(RetryCriteria, 'RetryCriteriaList') }),
      // Accepted and ignored: tags; presigned URLs (no S3); rollout rates (every execution is queued at once).
      tags: t.array(t.type({ Key: t.string, Value: t.string })),
      presignedUrlConfig: t.UnknownRecord,
      jobExecutionsRolloutConfig: t.UnknownRecord,
      documentSource: notEmulated,
      jobTemplateArn: notEmulated,
      documentParameters: notEmulated,
      abortConfig: notEmulated,
      schedulingConfig: notEmulated,
      namespaceId: notEmulated,
      destinationPackageVersions: notEmulated,
    }),
  ],
  'CreateJobBody',
);
export type CreateJobBody = t.TypeOf<typeof CreateJobBody>;

/** The body of CancelJob. */
export const CancelJobBody = t.partial(
  { reasonCode: text('ReasonCode', 128, /^[\p{Lu}\p{Nd}_]+$/u), comment: text('Comment', 2028, /^[^\p{C}]+$/u) },
  'CancelJobBody',
);

/** The body of CancelJobExecution. */
export const CancelJobExecutionBody = t.partial(
  { expectedVersion: integer('ExpectedVersion', 0, Number.MAX_SAFE_INTEGER), statusDetails: StatusDetails },
  'CancelJobExecutionBody',
);

/** The `force` query parameter of CancelJob, DeleteJob, CancelJobExecution and DeleteJobExecution. */
export const ForceQuery = t.partial({ force: BooleanFromString, namespaceId: notEmulated }, 'ForceQuery');

/** The query of ListJobs. Thing-group filters match nothing: the emulator has no thing groups. */
export const ListJobsQuery = t.partial(
  {
    status: JobStatusFilter,
    targetSelection: TargetSelection,
    maxResults: MaxResults,
    nextToken: NextToken,
    thingGroupName: t.string,
    thingGroupId: t.string,
    namespaceId: notEmulated,
  },
  'ListJobsQuery',
);

/** The query of ListJobExecutionsForJob and ListJobExecutionsForThing. */
export const ListExecutionsQuery = t.partial(
  { status: JobExecutionStatus, maxResults: MaxResults, nextToken: NextToken, jobId: t.string, namespaceId: notEmulated },
  'ListExecutionsQuery',
);

/** The query of DescribeJobExecution. */
export const DescribeJobExecutionQuery = t.partial({ executionNumber: ExecutionNumberFromString }, 'DescribeJobExecutionQuery');

/** Path labels that name a job. */
export const JobLabels = t.type({ jobId: t.string }, 'JobLabels');

/** Path labels that name a thing. */
export const ThingLabels = t.type({ thingName: t.string }, 'ThingLabels');

/** Path labels that name a job on a thing. */
export const ExecutionLabels = t.type({ jobId: t.string, thingName: t.string }, 'ExecutionLabels');

/** Path labels that name one execution number of a job on a thing. */
export const ExecutionNumberLabels = t.type(
  { jobId: t.string, thingName: t.string, executionNumber: ExecutionNumberFromString },
  'ExecutionNumberLabels',
);
