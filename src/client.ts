import * as t from 'io-ts';
import { Subject, type Observable } from './rx';
import { show } from './codecs/decode';
import { httpDocument } from './codecs/http';
import type { DocumentCodec } from './codecs/job-execution';
import { isThingName } from './codecs/primitives';
import { InvalidRequestError, type DecodeError } from './errors';
import { events, operations, type EventTypes, type OperationTypes } from './operations';
import { eventStream } from './streams/events';
import { randomToken, request, type RequestContext } from './streams/request';
import { isTimerMs, maxTimerMs } from './util/timer-limit';
import type { JobsTransport } from './transport/transport';

/** Options of {@link createJobsClient}. */
export interface JobsClientOptions<D> {
  /** The thing whose jobs this client serves: 1–128 of `[a-zA-Z0-9:_-]`. */
  readonly thingName: string;
  /** How to reach the service: `mqttTransport(client)` or `httpsTransport(options)`. */
  readonly transport: JobsTransport;
  /** Deadline of each request, from subscription to decoded reply: 1 ms to 2^31-1 ms. Default 10 000 ms. */
  readonly timeoutMs?: number;
  /** Codec of your job documents; replies and events carry documents of its type. Default: `unknown`. */
  readonly jobDocument?: DocumentCodec<D>;
  /**
   * Take the caller's stack frames when an operation is called, so that a RequestTimeoutError shows where it
   * was called. Default false: the walk costs a few µs per request, more than 10 % of a round trip on a local
   * broker, and a timeout's message names the operation, job and clientToken; turn it on while debugging.
   */
  readonly callerStacks?: boolean;
}

type Operation<D, K extends keyof OperationTypes<D>> = (
  request: OperationTypes<D>[K]['request'],
) => Observable<OperationTypes<D>[K]['response']>;

/**
 * The AWS IoT Jobs device API for one thing. Every operation is a cold Observable: each subscription sends
 * one request with a fresh clientToken, emits one decoded reply and completes (use `firstValueFrom` for a
 * Promise, `retry()` to re-send). Errors: InvalidRequestError (nothing sent), RejectedError, DecodeError,
 * RequestTimeoutError, TransportError.
 */
export interface JobsClient<D = unknown> {
  /** The thing this client serves. */
  readonly thingName: string;
  /**
   * Lists the thing's pending executions: IN_PROGRESS and QUEUED (at most 10 in all).
   * @see https://docs.aws.amazon.com/iot/latest/apireference/API_iot-jobs-data_GetPendingJobExecutions.html
   * @example
   * const { inProgressJobs, queuedJobs } = await firstValueFrom(jobs.getPendingJobExecutions());
   */
  readonly getPendingJobExecutions: (request?: OperationTypes<D>['getPendingJobExecutions']['request']) => Observable<
    OperationTypes<D>['getPendingJobExecutions']['response']
  >;
  /**
   * Starts the next pending execution (IN_PROGRESS first, then QUEUED) and returns it; an execution already
   * IN_PROGRESS is returned unchanged; no `execution` when nothing is pending.
   * @see https://docs.aws.amazon.com/iot/latest/apireference/API_iot-jobs-data_StartNextPendingJobExecution.html
   * @example
   * const { execution } = await firstValueFrom(jobs.startNextPendingJobExecution({ stepTimeoutInMinutes: 10 }));
   */
  readonly startNextPendingJobExecution: (
    request?: OperationTypes<D>['startNextPendingJobExecution']['request'],
  ) => Observable<OperationTypes<D>['startNextPendingJobExecution']['response']>;
  /**
   * Reads one execution, or with `jobId: '$next'` the next pending one (no `execution` when none).
   * The job document is included unless `includeJobDocument: false`.
   * @see https://docs.aws.amazon.com/iot/latest/apireference/API_iot-jobs-data_DescribeJobExecution.html
   * @example
   * const { execution } = await firstValueFrom(jobs.describeJobExecution({ jobId: '$next' }));
   */
  readonly describeJobExecution: Operation<D, 'describeJobExecution'>;
  /**
   * Reports an execution's status (IN_PROGRESS, SUCCEEDED, FAILED or REJECTED) and details. With
   * `expectedVersion`, a stale version is rejected with code `VersionMismatch` (over HTTPS the service's 409
   * cannot tell it apart: code `InvalidStateTransition`, docs/decisions/0006).
   * @see https://docs.aws.amazon.com/iot/latest/apireference/API_iot-jobs-data_UpdateJobExecution.html
   * @example
   * await firstValueFrom(jobs.updateJobExecution({ jobId, status: 'SUCCEEDED', statusDetails: { result: 'ok' } }));
   */
  readonly updateJobExecution: Operation<D, 'updateJobExecution'>;
  /**
   * `notify`: the pending executions each time the set changes. Shared and ref-counted. A notification that
   * cannot be decoded is left out and reported on {@link JobsClient.eventDecodeErrors}; the stream goes on.
   * It errors only when the transport fails (TransportError).
   */
  readonly jobExecutionsChanged: () => Observable<EventTypes<D>['jobExecutionsChanged']>;
  /**
   * `notify-next`: the execution Describe(`$next`) would return, each time it changes; no `execution`
   * when the queue is empty. Shared and ref-counted; a notification that cannot be decoded is left out and
   * reported on {@link JobsClient.eventDecodeErrors}.
   */
  readonly nextJobExecutionChanged: () => Observable<EventTypes<D>['nextJobExecutionChanged']>;
  /**
   * The notifications of the two streams above that could not be decoded (not JSON, or failing a codec,
   * your document codec included), each as a DecodeError with its topic and raw payload (not enumerable: a
   * document may hold presigned URLs). Hot: it reports while a notification stream is subscribed, and
   * subscribes to nothing itself. While nobody subscribes to it, each is emitted as a Node process warning
   * instead (`process.on('warning')`), so none goes unseen.
   * @example
   * jobs.eventDecodeErrors().subscribe((error) => log.warn(error.message));
   */
  readonly eventDecodeErrors: () => Observable<DecodeError>;
}

/** Reports a DecodeError to `errors` when it is observed, or else as a process warning. */
const decodeErrorSink =
  (errors: Subject<DecodeError>) =>
  (error: DecodeError): void => {
    if (errors.observed) errors.next(error);
    else process.emitWarning(error.message, { type: 'IotJobsDecodeWarning', code: 'IOT_JOBS_EVENT_DECODE', detail: `payload: ${show(error.payload)}` });
  };

const bind = <D>(document: DocumentCodec<D>, context: RequestContext): JobsClient<D> => {
  const { thingName, transport } = context;
  const wire = transport.documentEncoding === 'json-string' ? httpDocument(document) : document;
  const getPending = request(operations.getPendingJobExecutions, operations.getPendingJobExecutions.response(wire), context);
  const startNext = request(operations.startNextPendingJobExecution, operations.startNextPendingJobExecution.response(wire), context);
  const decodeErrors = new Subject<DecodeError>();
  const report = decodeErrorSink(decodeErrors);
  const notify$ = eventStream('jobExecutionsChanged', events.jobExecutionsChanged.event(wire), transport, thingName, report);
  const notifyNext$ = eventStream('nextJobExecutionChanged', events.nextJobExecutionChanged.event(wire), transport, thingName, report);
  return {
    thingName,
    getPendingJobExecutions: (input = {}) => getPending(input),
    startNextPendingJobExecution: (input = {}) => startNext(input),
    describeJobExecution: request(operations.describeJobExecution, operations.describeJobExecution.response(wire), context),
    updateJobExecution: request(operations.updateJobExecution, operations.updateJobExecution.response(wire), context),
    jobExecutionsChanged: () => notify$,
    nextJobExecutionChanged: () => notifyNext$,
    eventDecodeErrors: () => decodeErrors.asObservable(),
  };
};

/**
 * Binds a thing, a transport and options to the operation table.
 * Throws InvalidRequestError at once if `thingName` is not a valid topic segment.
 * @example
 * const jobs = createJobsClient({ thingName: 'thing-A', transport: mqttTransport(await connectMqtt(opts)) });
 * jobs.nextJobExecutionChanged().subscribe(({ execution }) => console.log(execution?.jobId));
 */
export function createJobsClient(options: JobsClientOptions<unknown>): JobsClient;
export function createJobsClient<D>(options: JobsClientOptions<D> & { readonly jobDocument: DocumentCodec<D> }): JobsClient<D>;
export function createJobsClient<D>(options: JobsClientOptions<D>): JobsClient<D> | JobsClient {
  const { thingName, transport } = options;
  if (!isThingName(thingName)) {
    throw new InvalidRequestError([`thingName: expected ThingName (1-128 of [a-zA-Z0-9:_-]), got ${show(thingName)}`]);
  }
  // Typed, but a JavaScript caller may pass anything: fail here rather than with a TypeError at the first request.
  const given: unknown = transport;
  if (typeof given !== 'object' || given === null || !('request' in given) || typeof given.request !== 'function' || !('events' in given) || typeof given.events !== 'function') {
    throw new InvalidRequestError([`transport: expected mqttTransport() or httpsTransport(), got ${show(given)}`]);
  }
  const timeoutMs = options.timeoutMs ?? 10_000;
  // Node clamps timers above 2^31-1 ms to 1 ms: such a deadline would fire at once.
  if (!isTimerMs(timeoutMs, 1)) throw new InvalidRequestError([`timeoutMs: expected an integer 1-${maxTimerMs}, got ${show(timeoutMs)}`]);
  const callerStacks = options.callerStacks ?? false;
  if (typeof callerStacks !== 'boolean') throw new InvalidRequestError([`callerStacks: expected a boolean, got ${show(callerStacks)}`]);
  const context: RequestContext = { thingName, transport, timeoutMs, newToken: randomToken, callerStacks };
  return options.jobDocument === undefined ? bind(t.unknown, context) : bind(options.jobDocument, context);
}
