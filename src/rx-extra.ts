/* eslint-disable @typescript-eslint/no-deprecated -- re-exports: only some overloads of these are deprecated, and the users of this file are linted */
/**
 * src/rx-https.ts (and so src/rx.ts) and the rest of the RxJS the runner and the CLI use, module by module as
 * there. Kept out of src/rx.ts because a bundle chunk holds a whole module: every operator named in src/rx.ts
 * is loaded by whichever entry loads it, the device entry (`iot-jobs-rx`) included (docs/benchmarks.md, cold
 * start).
 */
export * from './rx-https';
export { EmptyError } from 'rxjs/internal/util/EmptyError';
export { ReplaySubject } from 'rxjs/internal/ReplaySubject';
export { isObservable } from 'rxjs/internal/util/isObservable';
export { NEVER } from 'rxjs/internal/observable/never';
export { concat } from 'rxjs/internal/observable/concat';
export { from } from 'rxjs/internal/observable/from';
export { merge } from 'rxjs/internal/observable/merge';
export { exhaustMap } from 'rxjs/internal/operators/exhaustMap';
export { finalize } from 'rxjs/internal/operators/finalize';
export { first } from 'rxjs/internal/operators/first';
export { ignoreElements } from 'rxjs/internal/operators/ignoreElements';
export { retry } from 'rxjs/internal/operators/retry';
export { switchMap } from 'rxjs/internal/operators/switchMap';
export { of } from 'rxjs/internal/observable/of';
