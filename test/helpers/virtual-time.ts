import type { VirtualTimeScheduler } from 'rxjs';

/** Moves `scheduler`'s virtual time forward by `ms`, firing every timer due on the way. */
export const advanceBy = (scheduler: VirtualTimeScheduler, ms: number): void => {
  const target = scheduler.now() + ms;
  scheduler.maxFrames = target;
  scheduler.flush();
  scheduler.frame = target;
};
