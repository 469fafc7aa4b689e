import type { CliIo } from './io';
import { type Observable, fromEvent, map, merge, of } from './rx';

const aborted = (s: AbortSignal): Observable<unknown> => (s.aborted ? of(true) : fromEvent(s, 'abort'));

/**
 * Which signal asked a command to stop: `SIGINT` or `SIGTERM`, or `abort` when `io.signal` is given (it then
 * replaces them). Subscribed, it keeps Node from dying by those signals, so the command can clean up.
 */
export const signalRequested = (io: CliIo): Observable<string> =>
  io.signal === undefined
    ? merge(fromEvent(process, 'SIGINT').pipe(map(() => 'SIGINT')), fromEvent(process, 'SIGTERM').pipe(map(() => 'SIGTERM')))
    : aborted(io.signal).pipe(map(() => 'abort'));

/** When a long-running command (`watch`, `run`) should stop: {@link signalRequested}, or stdout closed. */
export const stopRequested = (io: CliIo): Observable<unknown> =>
  // Nobody reads the output any more (`| head -1`): stop as on SIGTERM.
  io.outputClosed === undefined ? signalRequested(io) : merge(signalRequested(io), aborted(io.outputClosed));
