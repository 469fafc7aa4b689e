import type { Argv } from './command';
import {
  type Action,
  type Condition,
  type LegacyDocument,
  Schema10Document,
  LegacyDocument as LegacyDocumentCodec,
  decodeDocument,
} from './codecs';

/**
 * AWS IoT Device Client job documents (../shared/spec/device-client-jobs.md §1–§2) turned into a plan our
 * runner executes: a list of steps plus an optional final step, each a handler or a command argv.
 */

/** What every step carries, whatever it runs. */
export interface StepCommon {
  /** The action's `name` (for legacy documents, the `operation`). Used in reasons and logs. */
  readonly name: string;
  /** `runAsUser`, `""` when absent. A handler gets it as `$1`; a command runs through `sudo -u` (step.ts). */
  readonly runAsUser: string;
  /** `ignoreStepFailure`: a failure of this step does not end the job. */
  readonly ignoreStepFailure: boolean;
  /** `allowStdErr`: the step fails if it writes more stderr lines than this (undefined: stderr never fails it). */
  readonly allowStdErr: number | undefined;
}

/** A `runHandler` step (or a legacy `operation`). */
export interface HandlerStep extends StepCommon {
  readonly kind: 'handler';
  /** `input.handler`: the handler's file name (resolved by handlers.ts). */
  readonly handler: string;
  /** `input.args`, `[]` when absent. */
  readonly args: readonly string[];
  /** `input.path`: `"default"` (the handler folder), another folder, or undefined when absent or `""`. */
  readonly path: string | undefined;
  /**
   * True for schema 1.0: argv is `[handler, runAsUser, ...args]`, as Device Client launches handlers. False for
   * legacy documents: argv is `[handler, ...args]`, as the legacy sample handlers expect (current Device Client
   * passes the empty user there too and shifts their arguments; spec §2).
   */
  readonly userArgument: boolean;
}

/** A `runCommand` step: the command split at unescaped commas (command.ts). */
export interface CommandStep extends StepCommon {
  readonly kind: 'command';
  readonly argv: Argv;
}

/** One step of a {@link DeviceClientPlan}. */
export type DeviceClientStep = HandlerStep | CommandStep;

/** A condition of a schema 1.0 document: validated, never evaluated (Device Client does not either). */
export interface DeviceClientCondition {
  readonly key: string;
  readonly value: readonly string[];
  /** `type`, `"stringEqual"` when absent. */
  readonly type: string;
}

/** A valid Device Client job document, normalised. */
export interface DeviceClientPlan {
  /** Which schema the document used. */
  readonly schema: '1.0' | 'legacy';
  /** `version` as sent (any non-empty string, as Device Client accepts), `"0.0"` for legacy documents. */
  readonly version: string;
  /** `includeStdOut`: put the stdout tail in statusDetails. */
  readonly includeStdOut: boolean;
  readonly conditions: readonly DeviceClientCondition[];
  /** The steps in order; never empty. */
  readonly steps: readonly [DeviceClientStep, ...DeviceClientStep[]];
  /** `finalStep`: runs only when every step succeeded (or its failure was ignored), spec §3.1. */
  readonly finalStep: DeviceClientStep | undefined;
}

/** Why a document cannot run: becomes a REJECTED status with {@link DeviceClientRejection.reason}. */
export interface DeviceClientRejection {
  /** One readable line per problem, e.g. `steps.0.action.type: expected "runHandler" or "runCommand", got "x"`. */
  readonly issues: readonly string[];
  /** All issues in one line, for `statusDetails.reason`. */
  readonly reason: string;
}

/** The outcome of {@link parseDeviceClientDocument}. */
export type DeviceClientParseResult =
  | { readonly ok: true; readonly plan: DeviceClientPlan }
  | { readonly ok: false; readonly rejection: DeviceClientRejection };

const isRecord = (u: unknown): u is Readonly<Record<string, unknown>> => typeof u === 'object' && u !== null && !Array.isArray(u);

const selectsSchema10 = (doc: Readonly<Record<string, unknown>>): boolean => typeof doc.version === 'string' && doc.version !== '';

/**
 * True when `value` claims to be a Device Client job document: a non-empty string `version` with a `steps`
 * key (schema 1.0), or a string `operation` (legacy). It says nothing about validity; a document it accepts
 * may still be rejected by {@link parseDeviceClientDocument}. Legacy documents look like many home-made
 * ones (`{"operation": "install", …}`), so a runner should try its own handlers first.
 */
export const isDeviceClientDocument = (value: unknown): boolean =>
  isRecord(value) && ((selectsSchema10(value) && 'steps' in value) || typeof value.operation === 'string');

const rejection = (issues: readonly string[]): DeviceClientParseResult => ({
  ok: false,
  rejection: { issues, reason: `Invalid job document: ${issues.join('; ')}` },
});

const toStep = (action: Action): DeviceClientStep => {
  const common: StepCommon = {
    name: action.name,
    runAsUser: action.runAsUser ?? '',
    ignoreStepFailure: action.ignoreStepFailure ?? false,
    allowStdErr: action.allowStdErr,
  };
  if (action.type === 'runCommand') return { kind: 'command', ...common, argv: action.input.command };
  const { handler, args = [], path } = action.input;
  return { kind: 'handler', ...common, handler, args, path: path === '' ? undefined : path, userArgument: true };
};

const toCondition = (condition: Condition): DeviceClientCondition => ({
  key: condition.key,
  value: condition.value,
  type: condition.type ?? 'stringEqual',
});

const fromSchema10 = (doc: Schema10Document): DeviceClientParseResult => {
  const [first, ...rest] = doc.steps.flatMap((entry) => (entry === undefined ? [] : [toStep(entry)]));
  if (first === undefined) return rejection(['steps: no step has an "action"; a job needs at least one']);
  return {
    ok: true,
    plan: {
      schema: '1.0',
      version: doc.version,
      includeStdOut: doc.includeStdOut ?? false,
      conditions: (doc.conditions ?? []).map(toCondition),
      steps: [first, ...rest],
      finalStep: doc.finalStep === undefined ? undefined : toStep(doc.finalStep),
    },
  };
};

const fromLegacy = (doc: LegacyDocument): DeviceClientParseResult => ({
  ok: true,
  plan: {
    schema: 'legacy',
    version: '0.0',
    includeStdOut: doc.includeStdOut ?? false,
    conditions: [],
    steps: [
      {
        kind: 'handler',
        name: doc.operation,
        handler: doc.operation,
        args: doc.args ?? [],
        path: doc.path === '' ? undefined : doc.path,
        userArgument: false,
        runAsUser: '',
        ignoreStepFailure: false,
        allowStdErr: doc.allowStdErr,
      },
    ],
    finalStep: undefined,
  },
});

/**
 * Reads a Device Client job document (the execution's `jobDocument`) into a {@link DeviceClientPlan}, or a
 * {@link DeviceClientRejection} listing every problem. Schema 1.0 is chosen when `version` is a non-empty
 * string, otherwise the legacy schema (`operation`), as Device Client does. Pure: no file or process is
 * touched (handler files are checked when a step runs, handlers.ts).
 *
 * Deliberate differences from Device Client (spec §7): boolean `true`/`false` and `"false"` are read for
 * `includeStdOut`/`ignoreStepFailure` and a numeric string for `allowStdErr`; values of the wrong type are
 * refused rather than silently ignored; an empty program in a `runCommand` is refused; legacy handlers get no
 * empty `$1`.
 *
 * @example
 * const parsed = parseDeviceClientDocument(execution.jobDocument);
 * if (!parsed.ok) report('REJECTED', { reason: parsed.rejection.reason });
 */
export const parseDeviceClientDocument = (value: unknown): DeviceClientParseResult => {
  if (!isRecord(value)) return rejection(['(root): the job document is not a JSON object']);
  if (selectsSchema10(value)) {
    const decoded = decodeDocument(Schema10Document, value);
    return decoded.ok ? fromSchema10(decoded.value) : rejection(decoded.issues);
  }
  if ('operation' in value) {
    const decoded = decodeDocument(LegacyDocumentCodec, value);
    return decoded.ok ? fromLegacy(decoded.value) : rejection(decoded.issues);
  }
  return rejection(['(root): no "version" string (schema 1.0) and no "operation" (legacy schema)']);
};
