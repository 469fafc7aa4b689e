import type { Subscription } from '../rx';
import { lingerScheduler } from './linger-scheduler';
import type { MqttMessage, MqttPort } from './mqtt-port';

/** One user of a {@link SharedFilter}: a request that waits for the SUBACK, then for its reply. */
export interface FilterUser {
  /**
   * The broker granted the filter; called at once for a user that comes after the grant, and again when it
   * is granted after a lapse, `resumed` when the session survived (nothing sent meanwhile was lost).
   */
  readonly granted: (resumed: boolean) => void;
  /** The filter lapsed with the session (the port said so): a reply sent meanwhile may be lost. */
  readonly lapsed: () => void;
  /** The subscription failed (e.g. the broker refused the filter). */
  readonly failed: (error: unknown) => void;
  /** The subscription ended without an error. */
  readonly ended: () => void;
}

/** A port subscription shared by every request of one operation; see {@link shareFilter}. */
export interface SharedFilter {
  /** Starts using the filter (SUBSCRIBE if nobody does); returns the release. */
  readonly use: (user: FilterUser) => () => void;
  /** The client has ended: release now when unused, and from now on at the last user's release. */
  readonly end: () => void;
}

/** Options of {@link shareFilter}. */
export interface ShareFilterOptions {
  /** How long the subscription stays after its last user leaves. */
  readonly lingerMs: number;
  /** True once the client has ended: no linger then (nobody can use the subscription any more). */
  readonly ended: () => boolean;
  /** Every message the subscription delivers. */
  readonly onMessage: (message: MqttMessage) => void;
}

/** One SUBSCRIBE of the filter, from the first user until it is released, fails or ends. */
interface Connection {
  /** The broker holds the filter: false before the SUBACK and while the filter has lapsed. */
  granted: boolean;
  closed: boolean;
  subscription?: Subscription;
}

/**
 * One port subscription of `filter`, ref-counted by its users and released `lingerMs` after the last one
 * leaves, so bursts of requests reuse one SUBSCRIBE; a failure or an end reaches every user, and the next
 * user subscribes again. While the filter has lapsed (the connection dropped), new users wait for it to be
 * granted again. This is `share()` with a replayed SUBACK and a linger, written out because every
 * request uses it: it arms one linger timer per idle period instead of one per request (sequential round
 * trips leave the filter unused between two requests), and it costs no operator subscriptions.
 */
export const shareFilter = (port: MqttPort, filter: string, options: ShareFilterOptions): SharedFilter => {
  const users = new Set<FilterUser>();
  let current: Connection | undefined;
  let idleSince = 0;
  let linger: Subscription | undefined;

  const release = (): void => {
    linger?.unsubscribe();
    linger = undefined;
    const connection = current;
    current = undefined;
    if (connection !== undefined) connection.closed = true;
    connection?.subscription?.unsubscribe();
  };

  // Runs `lingerMs` after the filter first went idle; an idle period that began later is waited out again.
  const check = (): void => {
    linger = undefined;
    if (users.size > 0 || current === undefined) return;
    const left = idleSince + options.lingerMs - lingerScheduler.now();
    if (left > 0) linger = lingerScheduler.schedule(check, left);
    else release();
  };

  // Every user there now, but not one that an earlier user's callback released (e.g. a `race` that lost):
  // it must not be published after its subscriber left.
  const tell = (each: (user: FilterUser) => void): void => {
    for (const user of [...users]) if (users.has(user)) each(user);
  };

  const drop = (connection: Connection): void => {
    connection.closed = true;
    if (current === connection) current = undefined;
  };

  const connect = (): void => {
    const connection: Connection = { granted: false, closed: false };
    current = connection;
    const subscription = port.subscribe(filter).subscribe({
      next: (event) => {
        if (event.kind === 'message') {
          options.onMessage(event.message);
          return;
        }
        if (event.kind === 'lapsed') {
          if (!connection.granted) return;
          connection.granted = false;
          tell((user) => {
            user.lapsed();
          });
          return;
        }
        if (connection.granted) return;
        connection.granted = true;
        const resumed = event.resumed === true;
        tell((user) => {
          user.granted(resumed);
        });
      },
      error: (error: unknown) => {
        drop(connection);
        tell((user) => {
          user.failed(error);
        });
      },
      complete: () => {
        drop(connection);
        tell((user) => {
          user.ended();
        });
      },
    });
    // A subscription that failed, ended or was released while subscribing is already closed.
    if (connection.closed) subscription.unsubscribe();
    else connection.subscription = subscription;
  };

  return {
    use: (user) => {
      users.add(user);
      if (current === undefined) connect();
      else if (current.granted) user.granted(false);
      return () => {
        if (!users.delete(user) || users.size > 0 || current === undefined) return;
        if (options.ended()) {
          release();
          return;
        }
        idleSince = lingerScheduler.now();
        linger ??= lingerScheduler.schedule(check, options.lingerMs);
      };
    },
    end: () => {
      // Users still here are failing on the end; each release from now on is immediate.
      linger?.unsubscribe();
      linger = undefined;
      if (users.size === 0) release();
    },
  };
};
