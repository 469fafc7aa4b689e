import type { CliIo } from './io';
import { type Observable, fromEvent, merge, of } from './rx';

/** When a long-running command (`watch`, `run`) should stop: SIGINT or SIGTERM, or `io.signal` when given; or stdout closed. */
export const stopRequested = (io: CliIo): Observable<unknown> => {
  const { signal, outputClosed } = io;
  const aborted = (s: AbortSignal): Observable<unknown> => (s.aborted ? of(true) : fromEvent(s, 'abort'));
  const stop = signal === undefined ? merge(fromEvent(process, 'SIGINT'), fromEvent(process, 'SIGTERM')) : aborted(signal);
  // Nobody reads the output any more (`| head -1`): stop as on SIGTERM.
  return outputClosed === undefined ? stop : merge(stop, aborted(outputClosed));
};
