import { randomUUID } from 'node:crypto';
import type * as t from 'io-ts';
import { Observable, asyncScheduler } from '../rx';
import { decodeReply } from '../codecs/decode';
import type { ThingName } from '../codecs/primitives';
import { RejectedResponse } from '../codecs/responses';
import { RejectedError, RequestTimeoutError, type OperationName } from '../errors';
import type { OperationTypes, RequestOperation } from '../operations';
import type { Call, JobsTransport, Reply } from '../transport/transport';

/** What every request of one client shares. */
export interface RequestContext {
  readonly thingName: ThingName;
  readonly transport: JobsTransport;
  /** Deadline of each request, from subscription to decoded reply. */
  readonly timeoutMs: number;
  /** Mints a fresh clientToken per subscription. */
  readonly newToken: () => string;
  /** Take the caller's frames for a RequestTimeoutError when an operation is called. Default false. */
  readonly callerStacks?: boolean;
}

/** A random clientToken: a UUID v4, as the official SDKs send (AWS allows up to 64 characters). */
export const randomToken = (): string => randomUUID();

/** Decodes an accepted reply, or throws the rejection it carries. */
const settle = <R>(operation: OperationName, response: t.Decoder<unknown, R>, reply: Reply): R => {
  // Built only when a payload fails: most replies decode, and this is every request's path.
  const source = () => ({ operation, payload: reply.payload, ...(reply.topic === undefined ? {} : { topic: reply.topic }) });
  if (reply.outcome === 'accepted') return decodeReply(response, reply.body, source);
  const rejection = decodeReply(RejectedResponse, reply.body, source);
  throw new RejectedError({
    operation,
    code: rejection.code,
    message: rejection.message,
    ...(rejection.clientToken === undefined ? {} : { clientToken: rejection.clientToken }),
    ...(rejection.executionState === undefined ? {} : { executionState: rejection.executionState }),
    ...(reply.httpStatus === undefined ? {} : { httpStatus: reply.httpStatus }),
    ...(reply.exceptionName === undefined ? {} : { exceptionName: reply.exceptionName }),
  });
};

/** Frames of the caller's stack kept for a RequestTimeoutError: the caller and a few of its callers. */
const callerFrames = 4;

/** Where an operation was called; `stack` as V8 formats it (a string, unless an app's prepareStackTrace says otherwise). */
interface CallSite {
  stack?: unknown;
}

/**
 * Takes the caller's frames into `callSite`. A few are enough to show the caller, and each frame walked costs
 * ~1 µs on every request, so the limit is lowered to {@link callerFrames} for the walk: only lowered (an app
 * that set a lower one, or 0 to turn stacks off, keeps it), and left alone where it cannot be written
 * (`--frozen-intrinsics`).
 */
const captureCaller = (callSite: CallSite, below: (...args: never[]) => unknown): void => {
  // Typed number, but any value can be set at run time.
  const limit: unknown = Error.stackTraceLimit;
  let lowered = false;
  try {
    if (typeof limit === 'number' && limit > callerFrames) {
      Error.stackTraceLimit = callerFrames;
      lowered = true;
    }
  } catch {
    // Read-only: walk with the process's limit.
  }
  try {
    Error.captureStackTrace(callSite, below);
  } finally {
    if (lowered && typeof limit === 'number') Error.stackTraceLimit = limit;
  }
};

/** The RequestTimeoutError of a request, showing the frames of the call that made it when they were taken. */
const timedOut = (operation: OperationName, clientToken: string, timeoutMs: number, jobId: string | undefined, callSite: CallSite): RequestTimeoutError => {
  const error = new RequestTimeoutError(operation, clientToken, timeoutMs, jobId);
  const { stack } = callSite;
  const frames = typeof stack === 'string' ? stack.indexOf('\n') : -1;
  if (typeof stack === 'string' && frames >= 0) error.stack = `${error.name}: ${error.message}${stack.slice(frames)}`;
  return error;
};

/**
 * The one pipeline every operation runs: mint a clientToken, encode (InvalidRequestError, nothing sent),
 * send, correlate by clientToken, time out (RequestTimeoutError), decode (DecodeError) or throw
 * RejectedError. Cold: each subscription is one request with a fresh token, so `retry()` re-sends.
 *
 * Written as one Observable rather than `defer` + `filter` + `take` + `timeout` + `map`: the same steps
 * and the same order of events, without five operator subscriptions per request, which on the sequential
 * round trip cost more than the raw mqtt.js publish and reply together (docs/benchmarks.md).
 */
export const request = <K extends OperationName, R>(
  operation: RequestOperation<K>,
  response: t.Decoder<unknown, R>,
  context: RequestContext,
): ((input: OperationTypes<unknown>[K]['request']) => Observable<R>) => {
  const callerStacks = context.callerStacks ?? false;
  const send = (input: OperationTypes<unknown>[K]['request']): Observable<R> => {
    // Asked for, a RequestTimeoutError's stack shows the caller (ARCHITECTURE.md §4): the frames are taken here,
    // where the caller is the next frame, not at subscription, below which lie RxJS's own frames
    // (firstValueFrom, subscribe, ...). Those cost as much to walk as the caller's (~1 µs a frame) and push the
    // caller out of V8's 10-frame limit. Off by default: the walk alone costs more than 10 % of a round trip on
    // a local broker (decision 0011). The error itself is only built if the deadline passes.
    const callSite: CallSite = {};
    if (callerStacks) captureCaller(callSite, send);
    return new Observable<R>((subscriber) => {
      const clientToken = context.newToken();
      // Throws InvalidRequestError before any I/O; the Observable turns that into the error notification.
      const { jobId, body } = operation.encode(input);
      const call: Call = {
        operation: operation.name,
        thingName: context.thingName,
        clientToken,
        payload: { ...body, clientToken },
        ...(jobId === undefined ? {} : { jobId }),
      };
      const replies = context.transport.request(call).subscribe({
        next: (reply) => {
          if (reply.clientToken !== clientToken) return; // another request's reply
          let value: R;
          try {
            value = settle(operation.name, response, reply);
          } catch (error) {
            subscriber.error(error);
            return;
          }
          subscriber.next(value);
          subscriber.complete();
        },
        error: (error: unknown) => {
          subscriber.error(error);
        },
        complete: () => {
          subscriber.complete();
        },
      });
      // A transport that answered or failed synchronously has closed `subscriber`: `add` then tears down at once.
      subscriber.add(replies);
      if (subscriber.closed) return;
      // The deadline counts from subscription; as `timeout` does, the request is dropped before the error.
      subscriber.add(
        asyncScheduler.schedule(() => {
          replies.unsubscribe();
          subscriber.error(timedOut(operation.name, clientToken, context.timeoutMs, jobId, callSite));
        }, context.timeoutMs),
      );
    });
  };
  return send;
};
