/**
 * What every cold-start child prints: one JSON line, read by bench/run.ts. Times are `performance.now()`
 * values or differences of them; Node's time origin is the start of the process.
 */
export interface ColdReport {
  readonly client: 'empty' | 'raw' | 'ours' | 'sdk' | 'http-ours' | 'http-sdk';
  /** When the child's first line ran: Node's own start-up. */
  readonly startMs: number;
  readonly requireMs: number;
  readonly connectMs: number;
  /** Connected → first reply (includes SUBSCRIBE/SUBACK where the client waits for it). */
  readonly describeMs: number;
  /** Process start → first reply. */
  readonly firstReplyMs: number;
  /** process.memoryUsage() right after the first reply. */
  readonly rss: number;
  readonly heapUsed: number;
}

/** Prints the report line. */
export const report = (line: ColdReport): void => {
  process.stdout.write(`${JSON.stringify(line)}\n`);
};

/** Ends the child with an error. */
export const fail = (error: unknown): never => {
  console.error(error);
  process.exit(1);
};

/** Exits with code 2 if the child is still alive after 15 s; unref'd, so it never keeps it alive. */
export const guard = (): NodeJS.Timeout =>
  setTimeout(() => {
    console.error('cold child: did not finish within 15 s');
    process.exit(2);
  }, 15_000).unref();

/** `node child.js <url> <thingName> <jobId>`: the MQTT broker's URL, or the data endpoint for the http-* children. */
export const args = (): { url: string; thingName: string; jobId: string } => {
  const [url, thingName, jobId] = process.argv.slice(2);
  if (url === undefined || thingName === undefined || jobId === undefined) return fail(new Error('usage: <mqtt-url> <thingName> <jobId>'));
  return { url, thingName, jobId };
};
