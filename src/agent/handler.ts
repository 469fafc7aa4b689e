import * as t from 'io-ts';
import { isLeft } from 'fp-ts/lib/Either.js';
import { report } from '../codecs/decode';
import type { JobId } from '../codecs/primitives';
import type { Observable } from '../rx-extra';

/**
 * The contract between the runner ({@link runJobs}) and the code that does a job: a handler claims job
 * documents, and runs one execution as an Observable of {@link HandlerEvent}s. Subscribing starts the work;
 * unsubscribing (and the `signal`) stops it.
 */

/** Statuses a handler may end an execution with. */
export type HandlerOutcomeStatus = 'SUCCEEDED' | 'FAILED';

/** Details a handler reports: any values; the runner encodes them within the service's limits. */
export type HandlerDetails = Readonly<Record<string, unknown>>;

/** What a handler emits while it runs. */
export type HandlerEvent =
  | {
      readonly kind: 'progress';
      /** 0–100, shown by the CLI and sent as the `progress` detail. */
      readonly percent?: number;
      /** The step now running; a new name restarts the runner's per-step time limit. */
      readonly step?: string;
      /** Sent as statusDetails with the IN_PROGRESS update (coalesced; the latest wins). */
      readonly details?: HandlerDetails;
    }
  | {
      readonly kind: 'checkpoint';
      /**
       * Any JSON value, written to the journal before the next event is taken: after a crash or reboot a
       * `resumable` handler is called again with it.
       */
      readonly checkpoint: unknown;
      readonly step?: string;
    }
  | {
      readonly kind: 'done';
      readonly status: HandlerOutcomeStatus;
      /** statusDetails of the terminal update; FAILED should carry a `reason`. */
      readonly details?: HandlerDetails;
    };

/** What a handler is given for one execution. */
export interface JobContext<P> {
  /** The job. */
  readonly jobId: JobId;
  /** Which execution of it on this thing. */
  readonly executionNumber: number;
  /** The job document, as the handler's `match` accepted it. */
  readonly document: P;
  /** Aborted when the execution is canceled, removed or timed out, or the runner stops or times it out. */
  readonly signal: AbortSignal;
  /** True when the runner restarted while this execution ran (a reboot, a crash) and is resuming it. */
  readonly resumed: boolean;
  /** The last checkpoint the handler emitted, when resuming. */
  readonly checkpoint: unknown;
  /** The step recorded with that checkpoint, when resuming. */
  readonly step: string | undefined;
}

/** A handler's verdict on a job document. */
export type Match<P> =
  | { readonly ok: true; readonly document: P }
  /** The document is for this handler but invalid: the execution is REJECTED with this reason. */
  | { readonly ok: false; readonly reason: string };

/** Code that runs the jobs whose documents it claims. */
export interface JobHandler<P = unknown> {
  /** Unique among the runner's handlers; recorded in the journal so a restart resumes the same handler. */
  readonly name: string;
  /** `undefined` when the document is not for this handler (the next one is asked). */
  readonly match: (document: unknown) => Match<P> | undefined;
  /**
   * Runs one execution: emit progress and checkpoints, then complete (SUCCEEDED), emit `done`, or error
   * (FAILED, the error's message as `reason`). Must stop its work when unsubscribed or `signal` aborts.
   * (A method, not a function property, so handlers of different document types fit one `JobHandler[]`:
   * the runner only passes a handler the document its own `match` returned.)
   */
  run(job: JobContext<P>): Observable<HandlerEvent>;
  /**
   * True when `run` can continue an execution interrupted by a crash or reboot, from `checkpoint`.
   * Otherwise such an execution ends FAILED with reason "interrupted". Default false.
   */
  readonly resumable?: boolean;
  /**
   * Called when an execution this handler ran was interrupted and will not be resumed (it ends FAILED
   * "interrupted"), with the last checkpoint: clean up what the interrupted run left, e.g. processes. Returns
   * a line for the status details (`cleanup`), or undefined. Errors it throws are reported, not fatal.
   */
  readonly interrupted?: (job: { readonly jobId: JobId; readonly executionNumber: number; readonly checkpoint: unknown; readonly step: string | undefined }) => string | undefined;
}

/** A `progress` event. */
export const progress = (percent?: number, details?: HandlerDetails, step?: string): HandlerEvent => ({
  kind: 'progress',
  ...(percent === undefined ? {} : { percent }),
  ...(details === undefined ? {} : { details }),
  ...(step === undefined ? {} : { step }),
});

/** A `checkpoint` event: `value` is saved durably before the handler's next event is taken. */
export const checkpoint = (value: unknown, step?: string): HandlerEvent => ({ kind: 'checkpoint', checkpoint: value, ...(step === undefined ? {} : { step }) });

/** A `done` event with SUCCEEDED. */
export const succeeded = (details?: HandlerDetails): HandlerEvent => ({ kind: 'done', status: 'SUCCEEDED', ...(details === undefined ? {} : { details }) });

/** A `done` event with FAILED and `reason` (plus any other details). */
export const failed = (reason: string, details?: HandlerDetails): HandlerEvent => ({ kind: 'done', status: 'FAILED', details: { ...details, reason } });

/** Options of {@link defineHandler}. */
export interface DefineHandlerOptions<P> {
  /** Handler name, and the document's `operation` it claims. */
  readonly name: string;
  /** Claims documents whose `operation` field is this. Default: `name`. */
  readonly operation?: string;
  /** Checks the claimed document; a failure REJECTS the execution with the codec's report. */
  readonly document: t.Decoder<unknown, P>;
  /** Runs one execution: an Observable of progress, checkpoint and done events (see {@link Handler.run}). */
  readonly run: (job: JobContext<P>) => Observable<HandlerEvent>;
  /** True when `run` can continue an interrupted execution from its checkpoint. Default false. */
  readonly resumable?: boolean;
}

const operationOf = (document: unknown): unknown =>
  typeof document === 'object' && document !== null && 'operation' in document ? document.operation : undefined;

/**
 * A handler for the common convention of job documents naming their `operation` (as the AWS managed
 * templates and most fleets do), checked by an io-ts codec.
 * @example
 * const reboot = defineHandler({ name: 'reboot', document: t.type({ operation: t.literal('reboot') }), run: () => EMPTY });
 */
export const defineHandler = <P>(options: DefineHandlerOptions<P>): JobHandler<P> => {
  const { name, operation = options.name, document: codec, run, resumable = false } = options;
  return {
    name,
    resumable,
    run,
    match: (document) => {
      if (operationOf(document) !== operation) return undefined;
      const decoded = codec.decode(document);
      return isLeft(decoded) ? { ok: false, reason: `invalid ${operation} job document: ${report(decoded.left).join('; ')}` } : { ok: true, document: decoded.right };
    },
  };
};
