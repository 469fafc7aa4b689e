import type { Command } from 'commander';
import { jobIdOrNextArg, naturalArg } from './args';
import { deviceCommand, withClient } from './device-command';
import type { CliIo } from './io';
import { executionLines, jsonLine, writeLines } from './output';
import { firstValueFrom } from './rx';

/**
 * `iot-jobs describe <jobId>`: DescribeJobExecution. With `$next`, the next pending execution (none is not
 * an error). `--json` prints `{"execution": {...} | null}`.
 */
export const describeCommand = (program: Command, io: CliIo): void => {
  deviceCommand(program, 'describe', 'describe a job execution; $next (quoted in the shell) for the next pending one')
    .argument('<jobId>', 'job id, or $next', jobIdOrNextArg)
    .option('--execution-number <n>', 'a given execution of the job (default: the latest)', naturalArg)
    .option('--no-document', 'leave out the job document')
    .action(async (jobId: string, flags: { executionNumber?: number; document: boolean }, command: Command) => {
      await withClient(command, io, async ({ opened, settings, json }) => {
        const { execution } = await firstValueFrom(
          opened.client.describeJobExecution({
            jobId,
            ...(flags.executionNumber === undefined ? {} : { executionNumber: flags.executionNumber }),
            ...(flags.document ? {} : { includeJobDocument: false }),
          }),
        );
        if (json) io.stdout.write(jsonLine({ execution: execution ?? null }));
        else writeLines(io.stdout, execution === undefined ? [`no pending job execution for ${settings.thingName}`] : executionLines(execution));
      });
    });
};
