import type { JobExecution } from '../codecs/job-execution';
import type { CliOutput } from './io';

/** Shared output of the device commands: JSON lines for `--json`, short lines and tables for people. */

/** One JSON document on one line: dates as ISO strings (`Date#toJSON`). */
export const jsonLine = (value: unknown): string => `${JSON.stringify(value)}\n`;

/** Writes lines to `out`, each ended by a newline. */
export const writeLines = (out: CliOutput, lines: readonly string[]): void => {
  if (lines.length > 0) out.write(`${lines.join('\n')}\n`);
};

/** Left-aligned columns, two spaces apart; trailing spaces trimmed. */
export const table = (rows: readonly (readonly string[])[]): string[] => {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ').trimEnd());
};

/** A date as ISO text, `-` when absent. */
export const when = (date: Date | undefined): string => (date === undefined ? '-' : date.toISOString());

/** A number as text, `-` when absent. */
export const num = (n: number | undefined): string => (n === undefined ? '-' : String(n));

/** `k=v, k=v`, or `-`. */
export const details = (statusDetails: Readonly<Record<string, string>> | undefined): string => {
  const entries = Object.entries(statusDetails ?? {});
  return entries.length === 0 ? '-' : entries.map(([k, v]) => `${k}=${v}`).join(', ');
};

/** An execution in a few labelled lines. */
export const executionLines = (execution: JobExecution): string[] => {
  const head = `${execution.jobId}  ${execution.status}  execution ${num(execution.executionNumber)}  version ${num(execution.versionNumber)}`;
  const rows = [
    ['  queued', when(execution.queuedAt)],
    ['  started', when(execution.startedAt)],
    ['  updated', when(execution.lastUpdatedAt)],
    ['  details', details(execution.statusDetails)],
    ...(execution.approximateSecondsBeforeTimedOut === undefined ? [] : [['  times out in', `${execution.approximateSecondsBeforeTimedOut} s`]]),
    ...(execution.jobDocument === undefined ? [] : [['  document', JSON.stringify(execution.jobDocument)]]),
  ];
  return [head, ...table(rows)];
};
