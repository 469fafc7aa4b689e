/** The longest delay a Node timer keeps: 2^31 − 1 ms. A longer one runs after 1 ms. */
export const maxTimerMs = 2_147_483_647;

/** True when `value` is a whole number of ms from `min` to {@link maxTimerMs}. */
export const isTimerMs = (value: unknown, min: number): boolean =>
  typeof value === 'number' && Number.isInteger(value) && value >= min && value <= maxTimerMs;
