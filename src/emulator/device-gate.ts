import type { DeviceRequest, FaultInjector } from './faults';
import { createRateLimiter, type RateLimit } from './rate-limit';

/**
 * What stands between a device request and the engine, in the binding layer (the engine stays pure): the
 * injected faults and the rate limit, shared by MQTT and the HTTP data plane so one thing's requests count
 * once whichever way they come.
 *
 * Order: an injected throttle first (it spends no token), then the rate limit, then an injected lost reply
 * (only for requests that run).
 */

/** What a binding does with a device request. */
export type GateVerdict =
  | { readonly action: 'serve' }
  /** Run it on the engine, then send no reply. */
  | { readonly action: 'drop' }
  /** Refuse it unrun: MQTT `RequestThrottled`, HTTP 429 ThrottlingException. */
  | { readonly action: 'throttle'; readonly message: string };

/** Decides the fate of each device request; call once per request, as it spends tokens and fault rules. */
export type DeviceGate = (request: DeviceRequest) => GateVerdict;

/** Options of {@link createDeviceGate}. */
export interface DeviceGateOptions {
  /** No limit when absent. */
  readonly rateLimit?: RateLimit;
  readonly faults: FaultInjector;
  /** The service's clock, epoch ms. */
  readonly now: () => number;
}

const serve: GateVerdict = { action: 'serve' };

/** A gate that serves every request: the bindings' default. */
export const openGate: DeviceGate = () => serve;

/** Creates a {@link DeviceGate}. Throws RangeError for a bad rate limit. */
export const createDeviceGate = (options: DeviceGateOptions): DeviceGate => {
  const { faults, now } = options;
  const limiter = options.rateLimit === undefined ? undefined : createRateLimiter(options.rateLimit, now);
  const limitText = options.rateLimit === undefined ? '' : `${options.rateLimit.requestsPerSecond} requests per second`;
  return (request) => {
    if (faults.take('throttle', request)) return { action: 'throttle', message: 'Rate exceeded (injected fault)' };
    if (limiter !== undefined && !limiter(request.thingName)) {
      return { action: 'throttle', message: `Rate exceeded: thing ${request.thingName} is limited to ${limitText}` };
    }
    return faults.take('drop', request) ? { action: 'drop' } : serve;
  };
};
