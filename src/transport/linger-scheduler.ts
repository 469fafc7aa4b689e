// Not in the rxjs index, and so not in ../rx.ts (whose exports are the index's); the same modules it loads.
import { AsyncAction } from 'rxjs/internal/scheduler/AsyncAction';
import { AsyncScheduler } from 'rxjs/internal/scheduler/AsyncScheduler';
import { performanceTimestampProvider } from 'rxjs/internal/scheduler/performanceTimestampProvider';
import type { TimerHandle } from 'rxjs/internal/scheduler/timerHandle';

/** An action whose Node timer does not keep the process alive (in TestScheduler's virtual time, a no-op). */
class UnrefAction<T> extends AsyncAction<T> {
  protected override requestAsyncId(scheduler: AsyncScheduler, id?: TimerHandle, delay?: number): TimerHandle {
    const handle = super.requestAsyncId(scheduler, id, delay);
    if (typeof handle === 'object') handle.unref();
    return handle;
  }
}

/**
 * The scheduler of the subscriptions' lingers: a linger only waits for a next user, and when nothing else
 * keeps Node alive there will be none, so its timer must not keep the process running (a port that cannot
 * say when its client ends, or a test's fake port, would otherwise hold Node for `lingerMs`). Its clock is
 * monotonic (`performance.now()`, virtual under TestScheduler): a wall clock stepped back (NTP, `date -s`, a
 * Raspberry Pi without a real-time clock) would otherwise hold an idle subscription for the step.
 */
export const lingerScheduler = new AsyncScheduler(UnrefAction, () => performanceTimestampProvider.now());
