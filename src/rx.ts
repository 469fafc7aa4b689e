/* eslint-disable @typescript-eslint/no-deprecated -- re-exports: only some overloads of these are deprecated, and the users of this file are linted */
/**
 * The RxJS the device path uses, loaded module by module. `require('rxjs')` loads all ~250 operators
 * (50–75 ms on a small device); these paths are the same CommonJS modules the `rxjs` index re-exports, so an
 * app that imports `rxjs` itself shares every class with us (test/rx.spec.ts checks that identity).
 * The emulator and tests import `rxjs` directly.
 */
export { Observable } from 'rxjs/internal/Observable';
export { Subject } from 'rxjs/internal/Subject';
export { EMPTY } from 'rxjs/internal/observable/empty';
export { defer } from 'rxjs/internal/observable/defer';
export { race } from 'rxjs/internal/observable/race';
export { throwError } from 'rxjs/internal/observable/throwError';
export { timer } from 'rxjs/internal/observable/timer';
export { asyncScheduler } from 'rxjs/internal/scheduler/async';
export { catchError } from 'rxjs/internal/operators/catchError';
export { defaultIfEmpty } from 'rxjs/internal/operators/defaultIfEmpty';
export { expand } from 'rxjs/internal/operators/expand';
export { filter } from 'rxjs/internal/operators/filter';
export { map } from 'rxjs/internal/operators/map';
export { mergeMap } from 'rxjs/internal/operators/mergeMap';
export { share } from 'rxjs/internal/operators/share';
export { take } from 'rxjs/internal/operators/take';
export { tap } from 'rxjs/internal/operators/tap';
export { throwIfEmpty } from 'rxjs/internal/operators/throwIfEmpty';
export { timeout } from 'rxjs/internal/operators/timeout';
export type { MonoTypeOperatorFunction, ObservableInput, OperatorFunction, SchedulerLike } from 'rxjs';
export type { Subscriber, Subscription } from 'rxjs';
