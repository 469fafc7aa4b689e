/* eslint-disable @typescript-eslint/no-deprecated -- re-exports: only some overloads of these are deprecated, and the users of this file are linted */
/**
 * The RxJS the device path uses, loaded module by module. `require('rxjs')` loads all ~250 operators
 * (50–75 ms on a small device); these paths are the same CommonJS modules the `rxjs` index re-exports, so an
 * app that imports `rxjs` itself shares every class with us (test/rx.spec.ts checks that identity).
 * The emulator and tests import `rxjs` directly.
 */
export { Observable } from 'rxjs/internal/Observable';
export { Subject } from 'rxjs/internal/Subject';
export { race } from 'rxjs/internal/observable/race';
export { throwError } from 'rxjs/internal/observable/throwError';
export { timer } from 'rxjs/internal/observable/timer';
export { asyncScheduler } from 'rxjs/internal/scheduler/async';
export { catchError } from 'rxjs/internal/operators/catchError';
export { filter } from 'rxjs/internal/operators/filter';
export { map } from 'rxjs/internal/operators/map';
export { mergeMap } from 'rxjs/internal/operators/mergeMap';
export { share } from 'rxjs/internal/operators/share';
export type { MonoTypeOperatorFunction, ObservableInput, OperatorFunction, SchedulerLike } from 'rxjs';
export type { Subscriber, Subscription } from 'rxjs';
