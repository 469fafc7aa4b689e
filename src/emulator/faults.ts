import type { OperationName } from '../errors';

/**
 * Fault injection for tests of device clients (docs/emulator.md "Fault injection"): rules that refuse the
 * next matching device requests as throttled, or apply them and lose their replies. Both bindings (MQTT and
 * the HTTP data plane) consult the same rules through ./device-gate.ts; the engine never sees them.
 */

/** Which device requests a fault applies to; an absent field matches every value. */
export interface FaultFilter {
  /** Only requests of this operation. */
  readonly operation?: OperationName;
  /** Only requests for this thing. */
  readonly thingName?: string;
}

/** Injects faults into the device API at run time (`emu.faults`). Rules are used up in the order they were added. */
export interface EmulatorFaults {
  /**
   * The next `count` matching device requests, over MQTT or HTTP, are refused as throttled and not applied:
   * MQTT `RequestThrottled` (clientToken echoed), HTTP 429 ThrottlingException. Throws on a negative or
   * fractional `count`.
   */
  readonly throttleNext: (count: number, filter?: FaultFilter) => void;
  /**
   * The next `count` matching device requests are applied but get no reply: over MQTT nothing is published,
   * over HTTP the connection is destroyed. A client sees a timeout (or a reset) for a call that took effect.
   * Throws on a negative or fractional `count`.
   */
  readonly dropRepliesNext: (count: number, filter?: FaultFilter) => void;
  /**
   * Drops, now, the MQTT connections of the devices acting for `thingName` (every device when absent), as a
   * network failure would: no DISCONNECT, so a client's will is published. Returns how many open connections
   * it dropped. The clients reconnect as they are set to.
   */
  readonly disconnect: (thingName?: string) => number;
  /** Forgets every rule not yet used up. */
  readonly clear: () => void;
}

/** A device request as the bindings see it before running it. */
export interface DeviceRequest {
  readonly operation: OperationName;
  readonly thingName: string;
}

/** The kinds of fault. */
export type FaultKind = 'throttle' | 'drop';

/** The rules behind {@link EmulatorFaults}, with the binding's side: use up one rule of a kind, if one matches. */
export interface FaultInjector {
  /** The rules; `disconnect` is the MQTT binding's, added by the emulator once its broker runs. */
  readonly faults: Omit<EmulatorFaults, 'disconnect'>;
  /** Whether a `kind` rule matches `request`; if so, one use of the first such rule is spent. */
  readonly take: (kind: FaultKind, request: DeviceRequest) => boolean;
}

interface Rule {
  readonly kind: FaultKind;
  readonly filter: FaultFilter;
  remaining: number;
}

const matches = (filter: FaultFilter, request: DeviceRequest): boolean =>
  (filter.operation === undefined || filter.operation === request.operation) &&
  (filter.thingName === undefined || filter.thingName === request.thingName);

/** Creates an empty {@link FaultInjector}. */
export const createFaultInjector = (): FaultInjector => {
  let rules: Rule[] = [];
  const add =
    (kind: FaultKind) =>
    (count: number, filter: FaultFilter = {}): void => {
      if (!Number.isSafeInteger(count) || count < 0) throw new RangeError(`count: expected a whole number ≥ 0, got ${String(count)}`);
      if (count > 0) rules.push({ kind, filter: { ...filter }, remaining: count });
    };
  return {
    faults: {
      throttleNext: add('throttle'),
      dropRepliesNext: add('drop'),
      clear: () => {
        rules = [];
      },
    },
    take: (kind, request) => {
      const rule = rules.find((r) => r.kind === kind && matches(r.filter, request));
      if (rule === undefined) return false;
      rule.remaining -= 1;
      if (rule.remaining === 0) rules = rules.filter((r) => r !== rule);
      return true;
    },
  };
};
