/**
 * The `Range` header of a GET, for one representation of `size` bytes (RFC 9110 §14). Only a single byte
 * range is served; a server may ignore any Range (§14.2), so a multi-range or malformed one means "send it
 * all".
 */

/** What to send. `start` and `end` are inclusive byte offsets. */
export type RangeDecision =
  | { readonly kind: 'whole' }
  | { readonly kind: 'partial'; readonly start: number; readonly end: number }
  | { readonly kind: 'unsatisfiable' };

const whole: RangeDecision = { kind: 'whole' };
const unsatisfiable: RangeDecision = { kind: 'unsatisfiable' };

/** One `first-last`, `first-` or `-suffix` range; anything else (a list, another unit) is `whole`. */
const single = /^bytes[ \t]*=[ \t]*(\d*)-(\d*)[ \t]*$/i;

/** Decides how to answer `header` (the Range value, if any) for `size` bytes. */
export const decideRange = (header: string | undefined, size: number): RangeDecision => {
  if (header === undefined) return whole;
  const match = single.exec(header);
  const [, first = '', last = ''] = match ?? [];
  if (match === null || (first === '' && last === '')) return whole;
  if (first === '') {
    // `-N`: the last N bytes; N = 0 asks for nothing.
    const suffix = Number(last);
    return suffix === 0 || size === 0 ? unsatisfiable : { kind: 'partial', start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  if (last !== '' && Number(last) < start) return whole; // invalid (§14.1.1): ignored
  if (start >= size) return unsatisfiable;
  return { kind: 'partial', start, end: last === '' ? size - 1 : Math.min(Number(last), size - 1) };
};
