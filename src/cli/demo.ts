import type { Command } from 'commander';
import type { CliIo } from './io';
import { jsonLine, table, writeLines } from './output';
import { take } from './rx';
import { signalRequested } from './stop';

/** The `reason` of an execution, or its details as `key=value` pairs. */
const summary = (details: Readonly<Record<string, string>>): string => {
  const reason = details['reason'];
  if (reason !== undefined) return reason.length > 90 ? `${reason.slice(0, 89)}…` : reason;
  return Object.entries(details)
    .map(([key, value]) => `${key}=${value}`)
    .join(' ');
};

/**
 * `iot-jobs demo` (what `npm start` runs): the emulator, four sample jobs and the runner, all in this
 * process on loopback, with progress and a final table. Exits 0 when every job ended as the demo expects,
 * 1 otherwise, and 1 when Ctrl-C or SIGTERM stops it (after removing its temporary folder). `--json`
 * prints the runner's events and then `{"kind":"summary",…}` as JSON lines.
 */
export const demoCommand = (program: Command, io: CliIo): void => {
  program
    .command('demo')
    .description('run the job runner against the built-in emulator with four sample jobs (no cloud, no set-up)')
    .option('--json', 'print one JSON document per line')
    .action(async (flags: { json?: boolean }) => {
      const json = flags.json === true;
      // Loaded here: the emulator and the runner are not needed by the other commands.
      const { runDemo, demoThing } = await import('./demo/scenario');
      if (!json) io.stdout.write(`iot-jobs demo: the emulator runs in this process; the device "${demoThing}" runs four jobs.\n\n`);
      // Ctrl-C or SIGTERM stops the demo, which removes what it made (a temporary folder), instead of killing it.
      // Only the first: a second one kills the process as usual, should the clean-up hang.
      const stop = new AbortController();
      const signals = signalRequested(io).pipe(take(1)).subscribe((name) => {
        stop.abort(name);
      });
      const result = await runDemo({ tty: !json && io.stdout.isTTY === true, json, write: (text) => io.stdout.write(text), signal: stop.signal }).finally(() => {
        signals.unsubscribe();
      });
      if (json) {
        io.stdout.write(jsonLine({ kind: 'summary', ok: result.ok, executions: result.rows }));
      } else {
        io.stdout.write('\n');
        const rows = result.rows.map((row) => [row.jobId, row.status === row.expected ? row.status : `${row.status} (expected ${row.expected})`, summary(row.statusDetails)]);
        writeLines(io.stdout, table([['JOB', 'STATUS', 'DETAILS'], ...rows]));
        io.stdout.write(result.ok ? '\nEvery job ended as expected. See docs/agent.md to run your own handlers.\n' : '\nSome jobs did not end as expected.\n');
      }
      if (!result.ok) throw new Error('the demo did not end as expected (see the table)');
    });
};
