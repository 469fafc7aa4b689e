/**
 * The only errors that cross the public boundary. Match them by class (`instanceof`) or by their literal
 * `name` (works across realms and duplicated installs); never by message text.
 */

/** The four request operations, as named in the AWS API. */
export type OperationName =
  | 'getPendingJobExecutions'
  | 'startNextPendingJobExecution'
  | 'describeJobExecution'
  | 'updateJobExecution';

/** The two notification streams, as named in the AWS API. */
export type EventName = 'jobExecutionsChanged' | 'nextJobExecutionChanged';

/** Fields every {@link JobsError} may carry. */
export interface JobsErrorOptions {
  /** The operation or event stream the error belongs to. */
  readonly operation?: OperationName | EventName;
  /** The error this one wraps. */
  readonly cause?: unknown;
}

/** Base class of every error this library emits. Never thrown directly. */
export class JobsError extends Error {
  override readonly name: string;
  /** The operation or event stream the error belongs to, when known. */
  readonly operation: OperationName | EventName | undefined;

  constructor(message: string, options: JobsErrorOptions = {}) {
    super(message, 'cause' in options ? { cause: options.cause } : undefined);
    this.name = 'JobsError';
    this.operation = options.operation;
  }
}

/**
 * The caller's request failed validation (its codec, or a thing name / job id that is not a valid topic
 * segment). Nothing was sent.
 */
export class InvalidRequestError extends JobsError {
  override readonly name: 'InvalidRequestError';
  /** One readable line per problem, e.g. `jobId: "a/b" is not a valid job id`. */
  readonly issues: readonly string[];

  constructor(issues: readonly string[], options: JobsErrorOptions = {}) {
    super(`invalid request${options.operation === undefined ? '' : ` to ${options.operation}`}: ${issues.join('; ')}`, options);
    this.name = 'InvalidRequestError';
    this.issues = issues;
  }
}

/** The state of an execution as a rejection reports it (VersionMismatch, InvalidStateTransition). */
export interface RejectedExecutionState {
  /** The execution's status now, e.g. `IN_PROGRESS`. */
  readonly status?: string;
  /** Its status details now. */
  readonly statusDetails?: Readonly<Record<string, string>>;
  /** Its version now: retry a VersionMismatch with this as `expectedVersion`, after re-reading. */
  readonly versionNumber?: number;
}

/** Fields of a {@link RejectedError}. */
export interface RejectedErrorOptions extends JobsErrorOptions {
  /** The service's error code, e.g. `VersionMismatch` (MQTT) or the mapped code of an HTTP exception. */
  readonly code: string;
  /** The service's explanation. */
  readonly message: string;
  /** The clientToken the rejection echoed. */
  readonly clientToken?: string;
  /** The execution's state, when the rejection reports it (VersionMismatch, InvalidStateTransition). */
  readonly executionState?: RejectedExecutionState;
  /** HTTP status of the reply (HTTPS transport only). */
  readonly httpStatus?: number;
  /** HTTP exception name, e.g. `ResourceNotFoundException` (HTTPS transport only). */
  readonly exceptionName?: string;
}

/** The service rejected the request: a reply on `…/rejected`, or an HTTP Jobs error. */
export class RejectedError extends JobsError {
  override readonly name: 'RejectedError';
  /** The service's code; compare with {@link RejectedErrorCode} (the service may add codes). */
  readonly code: string;
  readonly clientToken: string | undefined;
  /** Present with `VersionMismatch` and `InvalidStateTransition`. */
  readonly executionState: RejectedExecutionState | undefined;
  readonly httpStatus: number | undefined;
  readonly exceptionName: string | undefined;

  constructor(options: RejectedErrorOptions) {
    super(`${options.operation ?? 'request'} rejected: ${options.code}: ${options.message}`, options);
    this.name = 'RejectedError';
    this.code = options.code;
    this.clientToken = options.clientToken;
    this.executionState = options.executionState;
    this.httpStatus = options.httpStatus;
    this.exceptionName = options.exceptionName;
  }
}

/** Fields of a {@link DecodeError}. */
export interface DecodeErrorOptions extends JobsErrorOptions {
  /** Name of the codec the payload failed. */
  readonly codec: string;
  /** PathReporter lines, one per problem. */
  readonly issues: readonly string[];
  /** The raw payload as received (text). */
  readonly payload: string;
  /** MQTT topic the payload came on. */
  readonly topic?: string;
}

/** A payload from the service (or the job document) is not JSON or fails its codec. */
export class DecodeError extends JobsError {
  override readonly name: 'DecodeError';
  readonly codec: string;
  readonly issues: readonly string[];
  /**
   * The raw payload as received (text). Not enumerable: `console.log`, `util.inspect`, JSON and loggers that
   * copy an error's fields (pino) leave it out, since a job document may hold presigned URLs, whose query
   * carries a signature and a session token. Read it explicitly.
   */
  declare readonly payload: string;
  readonly topic: string | undefined;

  constructor(options: DecodeErrorOptions) {
    super(`cannot decode ${options.codec}${options.topic === undefined ? '' : ` on ${options.topic}`}: ${options.issues.join('; ')}`, options);
    this.name = 'DecodeError';
    this.codec = options.codec;
    this.issues = options.issues;
    Object.defineProperty(this, 'payload', { value: options.payload, enumerable: false });
    this.topic = options.topic;
  }
}

/**
 * No correlated reply arrived within `timeoutMs`. The message names the operation, the job (when the request
 * has one) and the clientToken. Its stack shows the timer, or, with `createJobsClient({ callerStacks: true })`,
 * the frames of the call that made the request (e.g. `jobs.describeJobExecution(...)`).
 */
export class RequestTimeoutError extends JobsError {
  override readonly name: 'RequestTimeoutError';
  readonly clientToken: string;
  readonly timeoutMs: number;
  /** The job id (or `$next`) of the request, for the operations that name one. */
  readonly jobId: string | undefined;

  constructor(operation: OperationName, clientToken: string, timeoutMs: number, jobId?: string) {
    super(`${operation}${jobId === undefined ? '' : ` of ${jobId}`} timed out after ${timeoutMs} ms (clientToken ${clientToken})`, { operation });
    this.name = 'RequestTimeoutError';
    this.clientToken = clientToken;
    this.timeoutMs = timeoutMs;
    this.jobId = jobId;
  }
}

/** Fields of a {@link TransportError}. */
export interface TransportErrorOptions extends JobsErrorOptions {
  /** MQTT reason code (SUBACK/PUBACK failure) when there is one. */
  readonly reasonCode?: number;
  /** HTTP status when the failure is an unexpected HTTP reply. */
  readonly httpStatus?: number;
}

/** Publish, subscribe, connection, HTTP or network failure. */
export class TransportError extends JobsError {
  override readonly name: 'TransportError';
  readonly reasonCode: number | undefined;
  readonly httpStatus: number | undefined;

  constructor(message: string, options: TransportErrorOptions = {}) {
    super(message, options);
    this.name = 'TransportError';
    this.reasonCode = options.reasonCode;
    this.httpStatus = options.httpStatus;
  }
}

const jobsErrorNames = new Set([
  'JobsError',
  'InvalidRequestError',
  'RejectedError',
  'DecodeError',
  'RequestTimeoutError',
  'TransportError',
]);

/** True for any error this library emits, also across realms or duplicated installs (checks `name`). */
export const isJobsError = (error: unknown): error is JobsError =>
  error instanceof JobsError || (error instanceof Error && jobsErrorNames.has(error.name));
