import { randomUUID } from 'node:crypto';
import type * as t from 'io-ts';
import { type Observable, defer, map } from '../rx';
import { decodeParsed } from '../codecs/decode';
import type { ThingName } from '../codecs/primitives';
import { RejectedResponse } from '../codecs/responses';
import { RejectedError, RequestTimeoutError, type OperationName } from '../errors';
import type { OperationTypes, RequestOperation } from '../operations';
import type { JobsTransport, Reply } from '../transport/transport';
import { correlateBy, timeoutAs } from './operators';

/** What every request of one client shares. */
export interface RequestContext {
  readonly thingName: ThingName;
  readonly transport: JobsTransport;
  /** Deadline of each request, from subscription to decoded reply. */
  readonly timeoutMs: number;
  /** Mints a fresh clientToken per subscription. */
  readonly newToken: () => string;
}

/** A random clientToken: a UUID v4, as the official SDKs send (AWS allows up to 64 characters). */
export const randomToken = (): string => randomUUID();

/** Decodes an accepted reply, or throws the rejection it carries. */
const settle = <R>(operation: OperationName, response: t.Decoder<unknown, R>, reply: Reply): R => {
  const source = { operation, payload: reply.payload, ...(reply.topic === undefined ? {} : { topic: reply.topic }) };
  if (reply.outcome === 'accepted') return decodeParsed(response, reply.body, source);
  const rejection = decodeParsed(RejectedResponse, reply.body, source);
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

/**
 * The one pipeline every operation runs: defer, mint a clientToken, encode (InvalidRequestError, nothing
 * sent), send, correlate by clientToken, time out (RequestTimeoutError), decode (DecodeError) or throw
 * RejectedError. Cold: each subscription is one request with a fresh token, so `retry()` re-sends.
 */
export const request =
  <K extends OperationName, R>(operation: RequestOperation<K>, response: t.Decoder<unknown, R>, context: RequestContext) =>
  (input: OperationTypes<unknown>[K]['request']): Observable<R> =>
    defer(() => {
      const clientToken = context.newToken();
      const timeoutError = new RequestTimeoutError(operation.name, clientToken, context.timeoutMs);
      const { jobId, body } = operation.encode(input);
      const call = {
        operation: operation.name,
        thingName: context.thingName,
        clientToken,
        payload: { ...body, clientToken },
        ...(jobId === undefined ? {} : { jobId }),
      };
      return context.transport.request(call).pipe(
        correlateBy(clientToken),
        timeoutAs(context.timeoutMs, timeoutError),
        map((reply) => settle(operation.name, response, reply)),
      );
    });
