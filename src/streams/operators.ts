import { type MonoTypeOperatorFunction, filter, take, throwError, timeout } from '../rx';
import type { Reply } from '../transport/transport';

/** Small named operators of the request pipeline. */

/** Keeps the first reply that carries `clientToken`; replies to other requests are ignored. */
export const correlateBy = (clientToken: string): MonoTypeOperatorFunction<Reply> => (source) =>
  source.pipe(
    filter((reply) => reply.clientToken === clientToken),
    take(1),
  );

/** Fails with `error` (created by the caller, so its stack is the caller's) when nothing arrives in `ms`. */
export const timeoutAs = <T>(ms: number, error: Error): MonoTypeOperatorFunction<T> =>
  timeout({ first: ms, with: () => throwError(() => error) });
