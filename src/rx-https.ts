/* eslint-disable @typescript-eslint/no-deprecated -- re-exports: only some overloads of these are deprecated, and the users of this file are linted */
/**
 * src/rx.ts and the operators the HTTPS transport and the credentials provider use besides, module by module
 * as there. Their code loads only when one is made (src/util/later.ts), and these with it.
 */
export * from './rx';
export { EMPTY } from 'rxjs/internal/observable/empty';
export { defer } from 'rxjs/internal/observable/defer';
export { defaultIfEmpty } from 'rxjs/internal/operators/defaultIfEmpty';
export { expand } from 'rxjs/internal/operators/expand';
export { take } from 'rxjs/internal/operators/take';
export { tap } from 'rxjs/internal/operators/tap';
export { throwIfEmpty } from 'rxjs/internal/operators/throwIfEmpty';
export { timeout } from 'rxjs/internal/operators/timeout';
