import { MultiBar, type SingleBar } from 'cli-progress';
import type { RunnerEvent } from '../agent/events';
import { type MonoTypeOperatorFunction, type Observable, type Subscription, defer, finalize, tap } from './rx';

/** Options of {@link renderProgress}. */
export interface ProgressOptions {
  /** Draw progress bars (the output is a terminal). */
  readonly tty: boolean;
  /** One JSON document per event and line; wins over `tty`. */
  readonly json: boolean;
  /** Where JSON and plain lines go. */
  readonly write: (text: string) => void;
  /** TTY mode: the terminal for the bars and the lines above them. Default `process.stdout`. */
  readonly stream?: NodeJS.WritableStream;
}

const ref = (event: { readonly jobId?: string; readonly executionNumber?: number }): string =>
  event.jobId === undefined ? '' : ` ${event.jobId} #${event.executionNumber ?? '?'}`;

/**
 * Text from a job (step names, reasons, error messages) as the terminal may show it: control and format
 * characters (escape sequences, line breaks) become `\uFFFD`, so a job document cannot drive the terminal.
 */
export const printable = (text: string): string => text.replace(/\p{C}/gu, '\uFFFD');

/** An event as one line of text (no newline), e.g. `succeeded job-1 #1`; never a control character. */
export const runnerEventLine = (event: RunnerEvent): string => printable(eventText(event));

const eventText = (event: RunnerEvent): string => {
  const head = event.kind.padEnd(9);
  switch (event.kind) {
    case 'started':
    case 'resumed':
      return `${head}${ref(event)} (${event.handler})`;
    case 'progress':
      return `${head}${ref(event)}${event.percent === undefined ? '' : ` ${String(Math.round(event.percent))}%`}${event.step === undefined ? '' : ` ${event.step}`}`;
    case 'succeeded':
      return `${head}${ref(event)}`;
    case 'failed':
    case 'rejected':
      return `${head}${ref(event)}: ${event.reason}`;
    case 'canceled':
      return `${head}${ref(event)} (${event.status})`;
    case 'reported':
      return `${head}${ref(event)} ${event.status} (${event.attempts} attempt${event.attempts === 1 ? '' : 's'})`;
    case 'idle':
      return `${head} no pending job: waiting for the next one`;
    case 'error':
      return `${head}${ref(event)} ${event.error.name}: ${event.error.message.replace(/\r?\n/g, ' ')}`;
  }
};

/** An event as one JSON document on one line; an error as `{ name, message }`. Never throws. */
export const runnerEventJson = (event: RunnerEvent): string => {
  const value =
    event.kind === 'error'
      ? { kind: event.kind, jobId: event.jobId, executionNumber: event.executionNumber, error: { name: event.error.name, message: event.error.message } }
      : event;
  try {
    return JSON.stringify(value);
  } catch {
    // A checkpoint that is not JSON (BigInt, a cycle) is left out rather than losing the event.
    return JSON.stringify({ ...value, checkpoint: '(not JSON)' });
  }
};

interface Renderer {
  readonly event: (event: RunnerEvent) => void;
  readonly stop: () => void;
}

const lineRenderer = (write: (text: string) => void, toText: (event: RunnerEvent) => string): Renderer => ({
  event: (event) => {
    write(`${toText(event)}\n`);
  },
  stop: () => undefined,
});

/** One bar per running execution; lines for everything else, printed above the bars. */
const barRenderer = (stream: NodeJS.WritableStream): Renderer => {
  const multibar = new MultiBar({
    stream,
    format: '{label} [{bar}] {percentage}%',
    barsize: 30,
    hideCursor: false,
    clearOnComplete: true,
    gracefulExit: false,
    // Redraw every bar each time: a line logged above the bars overwrites one, and an unchanged bar would not be drawn again.
    forceRedraw: true,
  });
  const bars = new Map<string, { bar: SingleBar; percent: number }>();
  const keyOf = (event: { readonly jobId: string; readonly executionNumber: number }): string => `${event.jobId}#${event.executionNumber}`;
  const log = (line: string): void => {
    if (bars.size === 0) stream.write(`${line}\n`);
    else {
      multibar.log(`${line}\n`);
      multibar.update();
    }
  };
  const show = (event: { readonly jobId: string; readonly executionNumber: number }, percent: number, step: string | undefined): void => {
    const key = keyOf(event);
    const label = printable(`${event.jobId} #${event.executionNumber}${step === undefined ? '' : ` ${step}`}`);
    const held = bars.get(key);
    if (held === undefined) bars.set(key, { bar: multibar.create(100, percent, { label }), percent });
    else {
      held.bar.update(percent, { label });
      held.percent = percent;
    }
    multibar.update();
  };
  const remove = (event: { readonly jobId: string; readonly executionNumber: number }): void => {
    const held = bars.get(keyOf(event));
    if (held === undefined) return;
    bars.delete(keyOf(event));
    multibar.remove(held.bar);
    if (bars.size === 0) multibar.stop();
  };
  return {
    event: (event) => {
      switch (event.kind) {
        case 'progress':
          show(event, Math.max(0, Math.min(100, event.percent ?? bars.get(keyOf(event))?.percent ?? 0)), event.step);
          return;
        case 'started':
        case 'resumed':
          log(runnerEventLine(event));
          show(event, 0, undefined);
          return;
        case 'succeeded':
        case 'failed':
        case 'rejected':
        case 'canceled':
          log(runnerEventLine(event));
          remove(event);
          return;
        case 'reported':
        case 'error':
          log(runnerEventLine(event));
      }
    },
    stop: () => {
      if (bars.size > 0) multibar.stop();
      bars.clear();
    },
  };
};

/**
 * Renders runner events as they pass, and passes them on: with `json`, one JSON line per event; with
 * `tty`, a cli-progress bar per running execution (percent from `progress`, label job id and step) with
 * the other events as lines above the bars; else one plain line per event. Unsubscribing (or the source
 * ending) stops the bars.
 * @example
 * runJobs(client, options).pipe(renderProgress({ tty: process.stdout.isTTY, json: false, write: (t) => process.stdout.write(t) }))
 */
export const renderProgress = (options: ProgressOptions): MonoTypeOperatorFunction<RunnerEvent> => (source) =>
  defer(() => {
    const renderer = options.json
      ? lineRenderer(options.write, runnerEventJson)
      : options.tty
        ? barRenderer(options.stream ?? process.stdout)
        : lineRenderer(options.write, runnerEventLine);
    return source.pipe(tap(renderer.event), finalize(renderer.stop));
  });

/**
 * Subscribes to `events$` and renders it (see {@link renderProgress}) until it ends or the returned
 * subscription is unsubscribed. An error of `events$` is written as one line.
 */
export const renderRunnerEvents = (events$: Observable<RunnerEvent>, options: ProgressOptions): Subscription =>
  events$.pipe(renderProgress(options)).subscribe({
    error: (error: unknown) => {
      const { name, message } = error instanceof Error ? error : { name: 'Error', message: String(error) };
      options.write(options.json ? `${JSON.stringify({ kind: 'error', error: { name, message } })}\n` : `error     ${name}: ${message}\n`);
    },
  });
