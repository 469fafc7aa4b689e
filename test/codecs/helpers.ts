import { isLeft } from 'fp-ts/lib/Either';
import type * as t from 'io-ts';
import { report } from '../../src/codecs/decode';

/**
 * io-ts-style codec assertions (io-ts `test/2.1.x/helpers.ts`), reporting with our own readable reporter
 * (`report()` in src/codecs/decode.ts) instead of PathReporter.
 */

/** `A` with its brands removed (deeply), so expected values can be written with plain strings. */
export type Unbranded<A> = A extends t.Brand<unknown>
  ? A extends string
    ? string
    : A extends number
      ? number
      : A
  : A extends Date
    ? A
    : A extends readonly (infer E)[]
      ? Unbranded<E>[]
      : A extends object
        ? { [K in keyof A]: Unbranded<A[K]> }
        : A;

/**
 * Asserts that `result` succeeded and returns its value; with `expected`, also that the value is strictly
 * equal to it (own keys, `undefined` fields and classes such as `Date` included).
 */
export const assertSuccess = <A>(result: t.Validation<A>, expected?: Unbranded<A>): A => {
  if (isLeft(result)) throw new Error(`expected a success, got:\n  ${report(result.left).join('\n  ')}`);
  if (expected !== undefined) expect(result.right).toStrictEqual(expected);
  return result.right;
};

/** Asserts that `codec` refuses `value` with exactly these `report()` lines, in this order. */
export const assertFailure = (codec: t.Decoder<unknown, unknown>, value: unknown, expectedLines: readonly string[]): void => {
  expect(failureLines(codec, value)).toStrictEqual(expectedLines);
};

/** The `report()` lines of a refused value; throws if `codec` accepts it. */
export const failureLines = (codec: t.Decoder<unknown, unknown>, value: unknown): string[] => {
  const result = codec.decode(value);
  if (!isLeft(result)) throw new Error(`expected ${codec.name} to refuse ${JSON.stringify(value)}, it decoded it`);
  return report(result.left);
};

/** Parses a payload copied verbatim from the spec (../shared/spec/jobs-api.md §7). */
export const wire = (text: string): unknown => {
  const value: unknown = JSON.parse(text);
  return value;
};

/** Freezes `value` and everything it holds, so that any write by the code under test throws. */
export const deepFreeze = <T>(value: T): T => {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
};

/** Epoch seconds as the `Date` the codecs decode them to. */
export const seconds = (epochSeconds: number): Date => new Date(epochSeconds * 1000);
