import { TestScheduler } from 'rxjs/testing';

/** Errors compare by name and own fields (stack and message aside), like rxjs' observableMatcher. */
const normalise = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(normalise);
  if (value instanceof Error) {
    const fields: Record<string, unknown> = { name: value.name };
    for (const [key, field] of Object.entries(value)) if (key !== 'stack' && key !== 'message') fields[key] = normalise(field);
    return fields;
  }
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, field]) => [key, normalise(field)]));
  }
  return value;
};

/** A TestScheduler whose assertions compare errors by name and fields. */
export const testScheduler = (): TestScheduler =>
  new TestScheduler((actual, expected) => {
    expect(normalise(actual)).toEqual(normalise(expected));
  });

/** The helpers of `TestScheduler.run`, plus `schedule(work, frame)` to act at a virtual time. */
export type Marbles = Parameters<Parameters<TestScheduler['run']>[0]>[0] & {
  readonly schedule: (work: () => void, frame: number) => void;
};

/** Runs `callback` on virtual time with {@link testScheduler}. */
export const runMarbles = (callback: (marbles: Marbles) => void): void => {
  const scheduler = testScheduler();
  scheduler.run((helpers) => {
    callback({
      ...helpers,
      schedule: (work, frame) => {
        scheduler.schedule(work, frame);
      },
    });
  });
};
