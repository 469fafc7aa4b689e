import { errorMessage } from '../../util/error-message';

/**
 * Checks of what a handler emits. Handlers are user code and their events unchecked values: a bug in one
 * must fail its job with a reason, never the runner.
 */

const eventKinds: ReadonlySet<unknown> = new Set(['progress', 'checkpoint', 'done']);
const outcomes: ReadonlySet<unknown> = new Set(['SUCCEEDED', 'FAILED']);

const kindOf = (value: unknown): string => (Array.isArray(value) ? 'an array' : typeof value === 'number' ? String(value) : typeof value);

/** What is wrong with a value a handler emitted as an event, if anything (handlers are unchecked user code). */
export const invalidEvent = (event: unknown): string | undefined => {
  if (typeof event !== 'object' || event === null || !('kind' in event)) return `expected an object with a kind, got ${typeof event}`;
  if (!eventKinds.has(event.kind)) return `unknown kind ${typeof event.kind === "string" ? JSON.stringify(event.kind) : typeof event.kind}`;
  if (event.kind === 'done' && !('status' in event && outcomes.has(event.status))) return 'a done event needs status SUCCEEDED or FAILED';
  // The fields the runner journals or sends: a wrong type there would fail the journal's check, not the job.
  // Absent, undefined and null (from JavaScript) all mean "not given".
  const step: unknown = 'step' in event ? event.step : undefined;
  if (step != null && typeof step !== 'string') return `step: expected a string, got ${kindOf(step)}`;
  const percent: unknown = 'percent' in event ? event.percent : undefined;
  if (percent != null && !(typeof percent === 'number' && Number.isFinite(percent))) return `percent: expected a finite number, got ${kindOf(percent)}`;
  const details: unknown = 'details' in event ? event.details : undefined;
  if (details != null && (typeof details !== 'object' || Array.isArray(details))) return `details: expected an object, got ${kindOf(details)}`;
  return undefined;
};

/** Why `value` cannot be saved as JSON (BigInt, a cycle), if it cannot. */
export const jsonProblem = (value: unknown): string | undefined => {
  try {
    JSON.stringify(value);
    return undefined;
  } catch (error) {
    return errorMessage(error);
  }
};
