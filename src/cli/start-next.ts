import type { Command } from 'commander';
import type { StatusDetails } from '../codecs/primitives';
import { statusDetailsArg, stepTimeoutArg } from './args';
import { deviceCommand, withClient } from './device-command';
import type { CliIo } from './io';
import { executionLines, jsonLine, writeLines } from './output';
import { firstValueFrom } from './rx';

/**
 * `iot-jobs start-next`: StartNextPendingJobExecution. Prints the started execution (one already
 * IN_PROGRESS is returned as it is), or that nothing is pending. `--json` prints `{"execution": {...} | null}`.
 */
export const startNextCommand = (program: Command, io: CliIo): void => {
  deviceCommand(program, 'start-next', 'start the next pending job execution (IN_PROGRESS first, then QUEUED)')
    .option('--step-timeout <minutes>', 'step timer, 1-10080 minutes', stepTimeoutArg)
    .option('--details <json>', 'statusDetails, a JSON object of strings', statusDetailsArg)
    .action(async (flags: { stepTimeout?: number; details?: StatusDetails }, command: Command) => {
      await withClient(command, io, async ({ opened, settings, json }) => {
        const { execution } = await firstValueFrom(
          opened.client.startNextPendingJobExecution({
            ...(flags.details === undefined ? {} : { statusDetails: flags.details }),
            ...(flags.stepTimeout === undefined ? {} : { stepTimeoutInMinutes: flags.stepTimeout }),
          }),
        );
        if (json) io.stdout.write(jsonLine({ execution: execution ?? null }));
        else writeLines(io.stdout, execution === undefined ? [`nothing pending for ${settings.thingName}`] : executionLines(execution));
      });
    });
};
