import type { CliIo } from './io';
import { type Observable, fromEvent, merge, of } from './rx';

/** When a long-running command (`watch`, `run`) should stop: SIGINT or SIGTERM, or `io.signal` when given. */
export const stopRequested = (io: CliIo): Observable<unknown> => {
  const { signal } = io;
  if (signal === undefined) return merge(fromEvent(process, 'SIGINT'), fromEvent(process, 'SIGTERM'));
  return signal.aborted ? of(true) : fromEvent(signal, 'abort');
};
