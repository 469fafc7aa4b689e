import { isLeft } from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { report } from '../../codecs/decode';
import { splitCommand, type Argv } from './command';

/**
 * io-ts codecs of AWS IoT Device Client job documents, exactly the fields of
 * ../shared/spec/device-client-jobs.md §1–§2. Tolerant readers: unknown keys (`_comment`, …) pass.
 *
 * Where Device Client silently ignores a value of the wrong JSON type (a boolean `includeStdOut`, a string
 * `allowStdErr`), we follow §7 of the spec: booleans and their strings are both read, and any other value is
 * refused with a readable line instead of being ignored. This module is the codec edge of the Device Client
 * path: `Either` does not leave it.
 */

const isRecord = (u: unknown): u is Readonly<Record<string, unknown>> => typeof u === 'object' && u !== null && !Array.isArray(u);

/** A string with at least one character. */
export const NonEmptyString = t.refinement(t.string, (s) => s !== '', 'non-empty string');

/**
 * `includeStdOut` / `ignoreStepFailure`: Device Client reads only the string `"true"`; we also read the boolean
 * `true` (its README's examples use it) and `false` / `"false"`. Anything else is refused, not ignored.
 */
export const Flag = new t.Type<boolean, boolean, unknown>(
  '"true" or "false"',
  (u): u is boolean => typeof u === 'boolean',
  (u, c) => (u === true || u === 'true' ? t.success(true) : u === false || u === 'false' ? t.success(false) : t.failure(u, c)),
  (b) => b,
);

/** `allowStdErr`: a non-negative integer; a numeric string is read too (spec §7; Device Client ignores it). */
export const StdErrLimit = new t.Type<number, number, unknown>(
  'a non-negative integer',
  (u): u is number => typeof u === 'number' && Number.isSafeInteger(u) && u >= 0,
  (u, c) => {
    const n = typeof u === 'string' && /^\d{1,9}$/.test(u) ? Number(u) : u;
    return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 ? t.success(n) : t.failure(u, c);
  },
  (n) => n,
);

/** `input.args`: a list of strings (Device Client's handling of other element types is unconfirmed). */
export const StringList = t.array(t.string, 'list of strings');

/** `input.command`, decoded to its argv by {@link splitCommand}; the failure line says why it cannot run. */
export const CommandLine = new t.Type<Argv, string, unknown>(
  'comma-separated command string',
  (u): u is Argv => Array.isArray(u) && u.length > 0 && u.every((s) => typeof s === 'string'),
  (u, c) => {
    if (typeof u !== 'string') return t.failure(u, c);
    const split = splitCommand(u);
    return split.ok ? t.success(split.argv) : t.failure(u, c, split.reason);
  },
  (argv) => argv.map((s) => s.replaceAll(',', '\\,')).join(','),
);

/** An element of `conditions`: parsed and validated like Device Client, never evaluated (neither does it). */
export const Condition = t.intersection(
  [
    t.type({ key: NonEmptyString, value: t.refinement(StringList, (list) => list.length > 0, 'non-empty list of strings') }),
    t.partial({ type: t.string }),
  ],
  'condition',
);
export type Condition = t.TypeOf<typeof Condition>;

const ActionOptions = t.partial({ runAsUser: t.string, allowStdErr: StdErrLimit, ignoreStepFailure: Flag });

/** An action of `type: "runHandler"`. */
export const HandlerAction = t.intersection(
  [
    t.type({
      name: NonEmptyString,
      type: t.literal('runHandler'),
      input: t.intersection([
        t.type({ handler: NonEmptyString }, 'runHandler input'),
        t.partial({ args: StringList, path: t.string }, 'runHandler input'),
      ]),
    }),
    ActionOptions,
  ],
  'runHandler action',
);
export type HandlerAction = t.TypeOf<typeof HandlerAction>;

/** An action of `type: "runCommand"`; `input.command` is decoded to its argv. */
export const CommandAction = t.intersection(
  [
    t.type({ name: NonEmptyString, type: t.literal('runCommand'), input: t.type({ command: CommandLine }, 'runCommand input') }),
    ActionOptions,
  ],
  'runCommand action',
);
export type CommandAction = t.TypeOf<typeof CommandAction>;

const ActionType = t.keyof({ runHandler: null, runCommand: null }, '"runHandler" or "runCommand"');
const ActionHead = t.type({ type: ActionType }, 'action');

/**
 * An action, dispatched on `type` so that a failure names the field at fault (a plain union would report
 * one line for the whole action).
 */
export const Action = new t.Type<HandlerAction | CommandAction, unknown, unknown>(
  'action',
  (u): u is HandlerAction | CommandAction => HandlerAction.is(u) || CommandAction.is(u),
  (u, c) => {
    const head = ActionHead.validate(u, c);
    if (isLeft(head)) return head;
    return head.right.type === 'runHandler' ? HandlerAction.validate(u, c) : CommandAction.validate(u, c);
  },
  (a) => a,
);
export type Action = t.TypeOf<typeof Action>;

const StepObject = t.type({ action: Action }, 'step ({ "action": … })');

/**
 * An element of `steps`, or `finalStep`: `{ "action": … }`. An object without an `action` key decodes to
 * `undefined` (Device Client skips it silently); any other non-action is refused.
 */
export const StepEntry = new t.Type<Action | undefined, unknown, unknown>(
  'step ({ "action": … })',
  (u): u is Action | undefined => u === undefined || Action.is(u),
  (u, c) => {
    if (isRecord(u) && !('action' in u)) return t.success(undefined);
    const step = StepObject.validate(u, c);
    return isLeft(step) ? step : t.success(step.right.action);
  },
  (a) => (a === undefined ? a : { action: a }),
);

/** A schema "1.0" document (spec §1): `version` selects it, `steps` must end up non-empty. */
export const Schema10Document = t.intersection(
  [
    t.type({ version: NonEmptyString, steps: t.array(StepEntry, 'list of steps') }, 'job document (schema 1.0)'),
    t.partial({ includeStdOut: Flag, conditions: t.array(Condition, 'list of conditions'), finalStep: StepEntry }),
  ],
  'job document (schema 1.0)',
);
export type Schema10Document = t.TypeOf<typeof Schema10Document>;

/** A legacy document (spec §2): one handler named by `operation`. */
export const LegacyDocument = t.intersection(
  [
    t.type({ operation: NonEmptyString }, 'legacy job document'),
    t.partial({ args: StringList, path: t.string, allowStdErr: StdErrLimit, includeStdOut: Flag }),
  ],
  'legacy job document',
);
export type LegacyDocument = t.TypeOf<typeof LegacyDocument>;

/** The outcome of {@link decodeDocument}. */
export type Decoded<A> = { readonly ok: true; readonly value: A } | { readonly ok: false; readonly issues: readonly string[] };

/** Decodes `value` with `codec`, failures as `report()` lines (`steps.0.action.name: expected …`). */
export const decodeDocument = <A>(codec: t.Decoder<unknown, A>, value: unknown): Decoded<A> => {
  const result = codec.decode(value);
  return isLeft(result) ? { ok: false, issues: report(result.left) } : { ok: true, value: result.right };
};
