/* eslint-disable @typescript-eslint/no-deprecated -- re-exports: only some overloads of fromEvent are deprecated, and the users of this file are linted */
/**
 * The RxJS of the CLI: the library's per-module imports (../rx.ts), plus the few the commands need that the
 * device path does not. Loading `rxjs` itself costs 50-75 ms on a small device, at every command.
 */
export * from '../rx-extra';
export { firstValueFrom } from 'rxjs/internal/firstValueFrom';
export { lastValueFrom } from 'rxjs/internal/lastValueFrom';
export { fromEvent } from 'rxjs/internal/observable/fromEvent';
export { scan } from 'rxjs/internal/operators/scan';
export { takeUntil } from 'rxjs/internal/operators/takeUntil';
export { takeWhile } from 'rxjs/internal/operators/takeWhile';
