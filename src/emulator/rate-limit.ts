/**
 * The emulator's device-API rate limit (docs/emulator.md "Throttling"): a token bucket per thing, run as
 * GCRA (one "theoretical arrival time" per thing), so a refused request changes nothing and there is no
 * rounding drift from repeated refills. Time comes from the service's clock: virtual time in tests.
 */

/** A device-API rate limit per thing, over MQTT and HTTP together (`EmulatorOptions.rateLimit`). */
export interface RateLimit {
  /** Sustained requests per second per thing; a positive number (fractions allowed). */
  readonly requestsPerSecond: number;
  /** Requests a thing may make at once after being idle. Default `max(1, ceil(requestsPerSecond))`. */
  readonly burst?: number;
}

/** Takes one token of `thingName`'s bucket: true if the request may run, false if it is throttled. */
export type RateLimiter = (thingName: string) => boolean;

/** Checks a {@link RateLimit}; throws RangeError naming the bad field. */
export const checkRateLimit = (limit: RateLimit): void => {
  const { requestsPerSecond, burst } = limit;
  if (!Number.isFinite(requestsPerSecond) || requestsPerSecond <= 0) {
    throw new RangeError(`rateLimit.requestsPerSecond: expected a positive number, got ${String(requestsPerSecond)}`);
  }
  if (burst !== undefined && (!Number.isSafeInteger(burst) || burst < 1)) {
    throw new RangeError(`rateLimit.burst: expected a whole number ≥ 1, got ${String(burst)}`);
  }
};

// Tolerance for intervals that are not whole milliseconds (1000 / 3).
const epsilonMs = 1e-6;

/** A {@link RateLimiter} for `limit` on the clock `now` (epoch ms). Throws RangeError for a bad limit. */
export const createRateLimiter = (limit: RateLimit, now: () => number): RateLimiter => {
  checkRateLimit(limit);
  const intervalMs = 1000 / limit.requestsPerSecond;
  const burst = limit.burst ?? Math.max(1, Math.ceil(limit.requestsPerSecond));
  const toleranceMs = (burst - 1) * intervalMs + epsilonMs;
  // When each thing's bucket will be full again, in effect; absent means full now.
  const arrivals = new Map<string, number>();
  return (thingName) => {
    const at = now();
    const arrival = Math.max(arrivals.get(thingName) ?? at, at);
    if (arrival - at > toleranceMs) return false;
    arrivals.set(thingName, arrival + intervalMs);
    return true;
  };
};
