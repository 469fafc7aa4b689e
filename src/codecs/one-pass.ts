import * as t from 'io-ts';

/**
 * Whether `codec` decodes every value its `is` accepts to that same value, so that `is` can stand in for a
 * decode that would only allocate: io-ts's primitive, literal and keyof codecs, and refinements of them. Not
 * a codec that builds a new value (an exact type strips keys, EpochSeconds makes a Date), nor one this cannot
 * see into (a caller's own).
 */
const decodesToItself = (codec: t.Mixed): boolean => {
  const refined: unknown = codec instanceof t.RefinementType ? codec.type : undefined;
  return (
    codec instanceof t.StringType ||
    codec instanceof t.NumberType ||
    codec instanceof t.BooleanType ||
    codec instanceof t.UnknownType ||
    codec instanceof t.LiteralType ||
    codec instanceof t.KeyofType ||
    (refined instanceof t.Type && decodesToItself(refined))
  );
};

/**
 * Whether `codec` can decode an absent value (`undefined`) to a value, as a default or an Option's `none` does:
 * `t.partial` then keeps that value, so such a codec runs on every absent property. One that decodes to itself,
 * refuses `undefined` or gives it back is skipped instead. Asked once, when the codec is made; a codec that
 * throws is run every time, as io-ts would.
 */
const decodesAbsent = (codec: t.Mixed): boolean => {
  if (decodesToItself(codec)) return false;
  try {
    const result = codec.decode(undefined);
    return result._tag === 'Right' && result.right !== undefined;
  } catch {
    return true;
  }
};

/** The shape every reply codec has: required properties and optional ones. */
type Struct<R extends t.Props, P extends t.Props> = t.IntersectionC<[t.TypeC<R>, t.PartialC<P>]>;

/**
 * The same codec with a faster decode of a valid value: `t.intersection([t.type(R), t.partial(P)])` allocates
 * a context array and an Either for every property, present or not, then merges its two halves' results.
 * This walks the properties once, checks one whose codec decodes to itself with `is` alone, skips an absent
 * optional one (unless its codec makes a value of nothing), and copies the object only when a property
 * decodes to a new value (a Date). Whatever it does not pass (an invalid value, a codec whose `is` disagrees
 * with its decode) goes to io-ts's own decode, so values, errors and their paths are io-ts's. Used on the
 * replies every request decodes (docs/benchmarks.md, stop 12).
 */
export const onePass = <R extends t.Props, P extends t.Props>(codec: Struct<R, P>): Struct<R, P> => {
  const [required, optional] = codec.types;
  const fields = [
    ...Object.entries(required.props).map(([key, field]) => ({ key, field, optional: false, fast: decodesToItself(field), absentDecodes: true })),
    ...Object.entries(optional.props).map(([key, field]) => ({ key, field, optional: true, fast: decodesToItself(field), absentDecodes: decodesAbsent(field) })),
  ];
  const validate: Struct<R, P>['validate'] = (u, c) => {
    if (!t.UnknownRecord.is(u)) return codec.validate(u, c);
    let output = u;
    for (const { key, field, optional: mayBeAbsent, fast, absentDecodes } of fields) {
      const value = u[key];
      const absent = value === undefined && mayBeAbsent;
      if (absent && !absentDecodes) continue;
      // (A codec that decodes to itself never makes a value of nothing: an absent one was skipped above.)
      if (fast) {
        if (field.is(value)) continue;
        return codec.validate(u, c);
      }
      const result = field.validate(value, t.appendContext(c, key, field, value));
      // As t.partial: a failure on nothing is no error, and a value made of nothing is kept.
      if (result._tag === 'Left') {
        if (absent) continue;
        return codec.validate(u, c);
      }
      if (result.right === value) continue;
      if (output === u) output = { ...u };
      output[key] = result.right;
    }
    // The check that types the value; for the properties that are there, it costs no allocation.
    return codec.is(output) ? t.success(output) : codec.validate(u, c);
  };
  return new t.IntersectionType(codec.name, codec.is, validate, codec.encode, codec.types);
};
