/**
 * A tiny seeded pseudo-random generator (xorshift32) for property tests: same seed, same cases. Shifts and
 * xors only: `Math.imul` is ~50x slower inside Jest's sandbox.
 */
export interface Random {
  /** A float in [0, 1). */
  readonly next: () => number;
  /** An integer in [min, max]. */
  readonly int: (min: number, max: number) => number;
  /** One element of `items`. */
  readonly pick: <T>(items: readonly T[]) => T;
  /** True with probability `p`. */
  readonly chance: (p: number) => boolean;
}

/** A generator seeded with `seed` (any 32-bit integer). */
export const seeded = (seed: number): Random => {
  let state = seed >>> 0 || 0x9e3779b9;
  const next = (): number => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 4_294_967_296;
  };
  // `| 0` rather than Math.floor, for the same reason (ranges here stay far below 2^31).
  const int = (min: number, max: number): number => min + ((next() * (max - min + 1)) | 0);
  const pick = <T>(items: readonly T[]): T => {
    const item = items[int(0, items.length - 1)];
    if (item === undefined) throw new Error('pick from an empty list');
    return item;
  };
  return { next, int, pick, chance: (p) => next() < p };
};
