import * as t from 'io-ts';
import { protoKey } from './decode';

/**
 * Primitive codecs shared by every payload: names that must be valid MQTT topic segments, numbers the
 * service sends as `long`, epoch-second timestamps, and `statusDetails` with the service's limits
 * (../shared/spec/jobs-api.md §4.1).
 */

const thingNamePattern = /^[a-zA-Z0-9:_-]{1,128}$/;
const jobIdPattern = /^[a-zA-Z0-9_-]{1,64}$/;
const detailsKeyPattern = /^[a-zA-Z0-9:_-]{1,128}$/;
/** Maximum characters in one `statusDetails` value. */
export const statusDetailsValueMaxLength = 1024;

// \p{C}: control, format, surrogate, private-use and unassigned characters, all refused by the service.
const detailsValuePattern = new RegExp(`^[^\\p{C}]{1,${statusDetailsValueMaxLength}}$`, 'u');

/** Brand of {@link ThingName}. */
export interface ThingNameBrand {
  readonly ThingName: unique symbol;
}
/** A thing name: 1–128 of `[a-zA-Z0-9:_-]`, so always one safe MQTT topic segment. */
export const ThingName = t.brand(
  t.string,
  (s): s is t.Branded<string, ThingNameBrand> => thingNamePattern.test(s),
  'ThingName',
);
export type ThingName = t.TypeOf<typeof ThingName>;

/** Brand of {@link JobId}. */
export interface JobIdBrand {
  readonly JobId: unique symbol;
}
/** A job id: 1–64 of `[a-zA-Z0-9_-]`, so always one safe MQTT topic segment. */
export const JobId = t.brand(t.string, (s): s is t.Branded<string, JobIdBrand> => jobIdPattern.test(s), 'JobId');
export type JobId = t.TypeOf<typeof JobId>;

/** The `$next` pseudo job id, valid for DescribeJobExecution only. */
export const NextJobId = t.literal('$next');
export type NextJobId = t.TypeOf<typeof NextJobId>;

/** A job id or `$next` (DescribeJobExecution). */
export const JobIdOrNext = t.union([JobId, NextJobId], 'JobIdOrNext');
export type JobIdOrNext = t.TypeOf<typeof JobIdOrNext>;

/** A JSON number the service models as `long`: a safe integer. */
export const Long = t.refinement(t.number, (n) => Number.isSafeInteger(n), 'Long');
export type Long = t.TypeOf<typeof Long>;

/**
 * `expectedVersion`: a safe non-negative integer. AWS's own examples and the embedded C SDK send it as a
 * numeric string (`"expectedVersion":"1"`), so decoding accepts both; encoding always writes a number.
 */
export const ExpectedVersion = new t.Type<number, number, unknown>(
  'ExpectedVersion',
  (u): u is number => typeof u === 'number' && Number.isSafeInteger(u) && u >= 0,
  (u, c) => {
    const n = typeof u === 'string' && /^\d{1,15}$/.test(u) ? Number(u) : u;
    return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 ? t.success(n) : t.failure(u, c);
  },
  (n) => n,
);

/**
 * Epoch seconds on the wire, `Date` in the domain. Accepts integers and fractions (the HTTPS API's unit and
 * number type are not confirmed, ../shared/spec/jobs-api.md §1); encodes whole seconds, as MQTT sends them.
 */
export const EpochSeconds = new t.Type<Date, number, unknown>(
  'EpochSeconds',
  (u): u is Date => u instanceof Date && !Number.isNaN(u.getTime()),
  (u, c) => {
    const date = typeof u === 'number' && Number.isFinite(u) && u >= 0 ? new Date(u * 1000) : undefined;
    // Beyond year 275760 a Date is invalid: refuse it rather than hand out an Invalid Date.
    return date !== undefined && !Number.isNaN(date.getTime()) ? t.success(date) : t.failure(u, c);
  },
  (d) => Math.floor(d.getTime() / 1000),
);

/** `stepTimeoutInMinutes` on StartNext: 1 minute to 7 days. */
export const StepTimeoutInMinutes = t.refinement(
  t.number,
  (n) => Number.isInteger(n) && n >= 1 && n <= 10_080,
  'StepTimeoutInMinutes',
);

/** `stepTimeoutInMinutes` on Update: 1 minute to 7 days, or `-1` to cancel the running step timer. */
export const UpdateStepTimeoutInMinutes = t.union([StepTimeoutInMinutes, t.literal(-1)], 'UpdateStepTimeoutInMinutes');

/** `clientToken`: 1–64 characters (the longest AWS IoT accepts). */
export const ClientToken = t.refinement(t.string, (s) => s.length >= 1 && s.length <= 64, 'ClientToken');

/** A `statusDetails` key: 1–128 of `[a-zA-Z0-9:_-]`. */
export const StatusDetailsKey = t.refinement(t.string, (s) => detailsKeyPattern.test(s), 'StatusDetailsKey');

/** A `statusDetails` value: 1–1024 characters, no control or format characters. */
export const StatusDetailsValue = t.refinement(t.string, (s) => detailsValuePattern.test(s), 'StatusDetailsValue');

const DetailsValues = t.record(t.string, StatusDetailsValue);

// "__proto__" fits the pattern, and AWS may take it, but a reply echoing it back would be refused by our
// decoders (io-ts would turn it into a prototype): refused before it is sent.
const isDetailsKey = (key: string): boolean => detailsKeyPattern.test(key) && key !== protoKey;

// `t.record` takes any object; a Map would go out as `{}` and a Date as a string.
const isPlainObject = (u: unknown): boolean => {
  if (typeof u !== 'object' || u === null) return false;
  const prototype: unknown = Object.getPrototypeOf(u);
  return prototype === Object.prototype || prototype === null;
};

/** `a Map`, `a Date`... for an object that is not plain. */
const classOf = (u: object): string => {
  const prototype: unknown = Object.getPrototypeOf(u);
  const constructor: unknown = typeof prototype === 'object' && prototype !== null && 'constructor' in prototype ? prototype.constructor : undefined;
  const name: unknown = typeof constructor === 'function' ? constructor.name : undefined;
  return typeof name === 'string' && name !== '' ? `a ${name}` : 'an object';
};

/**
 * `statusDetails` a device sends: a plain object whose keys and values are within the service's limits.
 * (`t.record` with a refined key codec would drop bad keys silently; here a bad key is refused.)
 */
export const StatusDetails = new t.Type<Record<string, string>, Record<string, string>, unknown>(
  'StatusDetails',
  (u): u is Record<string, string> => isPlainObject(u) && DetailsValues.is(u) && Object.keys(u).every(isDetailsKey),
  (u, c) => {
    if (typeof u === 'object' && u !== null && !isPlainObject(u)) return t.failure(u, c, `expected a plain object of strings, got ${classOf(u)}`);
    const values = DetailsValues.validate(u, c);
    if (values._tag === 'Left') return values;
    // "__proto__" fits the pattern, and AWS may take it, but a reply echoing it back would be refused by our
    // decoders (io-ts would turn it into a prototype): refused here, before it is sent.
    const bad = Object.keys(values.right).filter((key) => !isDetailsKey(key));
    return bad.length === 0
      ? values
      : t.failures(bad.map((key) => ({ value: key, context: t.appendContext(c, key, StatusDetailsKey, key), message: `${JSON.stringify(key)} is not a valid key (1-128 of [a-zA-Z0-9:_-], not "__proto__")` })));
  },
  (details) => details,
);
export type StatusDetails = t.TypeOf<typeof StatusDetails>;

/** `statusDetails` as the service returns them: any string map (a tolerant reader). */
export const StatusDetailsMap = t.record(t.string, t.string, 'StatusDetailsMap');
export type StatusDetailsMap = t.TypeOf<typeof StatusDetailsMap>;

/** True when `s` is a valid thing name (a safe topic segment). */
export const isThingName = (s: unknown): s is ThingName => ThingName.is(s);

/** True when `s` is a valid job id (a safe topic segment). */
export const isJobId = (s: unknown): s is JobId => JobId.is(s);
