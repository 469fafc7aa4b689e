/** Where the `iot-jobs` command reads and writes: the process by default, buffers in tests. */

/** A text sink: `process.stdout`, `process.stderr`, or a test buffer. */
export interface CliOutput {
  write(text: string): unknown;
  /** True when the sink is a terminal (progress bars, colours). */
  readonly isTTY?: boolean;
}

/** The command's surroundings. */
export interface CliIo {
  /** Results: human lines, or exactly one JSON document per line with `--json`. */
  readonly stdout: CliOutput;
  /** Errors (one line each) and status lines. */
  readonly stderr: CliOutput;
  /** Environment variables (`IOT_JOBS_*`, `AWS_*`). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Relative paths given as flags or environment variables resolve against this folder. */
  readonly cwd: string;
  /** Aborting it stops `watch` as SIGINT or SIGTERM do. Without it, `watch` listens for those signals. */
  readonly signal?: AbortSignal;
  /**
   * Aborted when stdout can no longer be written (its reader went away: `iot-jobs watch | head -1`). `watch`
   * and `run` then stop as on SIGTERM; other commands finish without writing.
   */
  readonly outputClosed?: AbortSignal;
}

/**
 * The real process: its stdout, stderr, environment and working folder. A write to a stdout whose reader has
 * gone fails with EPIPE as an 'error' event, which would crash the process: it aborts `outputClosed`
 * instead, and later writes are dropped.
 */
export const processIo = (): CliIo => {
  const closed = new AbortController();
  process.stdout.on('error', () => {
    closed.abort();
  });
  const stdout: CliOutput = {
    write: (text: string) => (closed.signal.aborted ? false : process.stdout.write(text)),
    isTTY: process.stdout.isTTY,
  };
  return { stdout, stderr: process.stderr, env: process.env, cwd: process.cwd(), outputClosed: closed.signal };
};
