import type { Command } from 'commander';
import type { DeviceStatus } from '../codecs/job-execution';
import type { StatusDetails } from '../codecs/primitives';
import { deviceStatusArg, jobIdArg, naturalArg, statusDetailsArg, updateStepTimeoutArg } from './args';
import { deviceCommand, withClient } from './device-command';
import type { CliIo } from './io';
import { details, jsonLine, num, writeLines } from './output';
import { firstValueFrom } from './rx';

interface UpdateFlags {
  readonly details?: StatusDetails;
  readonly expectedVersion?: number;
  readonly executionNumber?: number;
  readonly stepTimeout?: number;
}

/**
 * `iot-jobs update <jobId> <status>`: UpdateJobExecution, asking for the new execution state, which it
 * prints. `--json` prints `{"executionState": {...}}`.
 */
export const updateCommand = (program: Command, io: CliIo): void => {
  deviceCommand(program, 'update', "report a job execution's status: IN_PROGRESS, SUCCEEDED, FAILED or REJECTED")
    .argument('<jobId>', 'job id', jobIdArg)
    .argument('<status>', 'IN_PROGRESS, SUCCEEDED, FAILED or REJECTED', deviceStatusArg)
    .option('--details <json>', 'statusDetails, a JSON object of strings', statusDetailsArg)
    .option('--expected-version <n>', 'refuse (VersionMismatch) unless the execution has this version', naturalArg)
    .option('--execution-number <n>', 'the execution to update (default: the latest)', naturalArg)
    .option('--step-timeout <minutes>', 'new step timer, 1-10080 minutes, or -1 to stop it', updateStepTimeoutArg)
    .action(async (jobId: string, status: DeviceStatus, flags: UpdateFlags, command: Command) => {
      await withClient(command, io, async ({ opened, json }) => {
        const { executionState } = await firstValueFrom(
          opened.client.updateJobExecution({
            jobId,
            status,
            includeJobExecutionState: true,
            ...(flags.details === undefined ? {} : { statusDetails: flags.details }),
            ...(flags.expectedVersion === undefined ? {} : { expectedVersion: flags.expectedVersion }),
            ...(flags.executionNumber === undefined ? {} : { executionNumber: flags.executionNumber }),
            ...(flags.stepTimeout === undefined ? {} : { stepTimeoutInMinutes: flags.stepTimeout }),
          }),
        );
        if (json) io.stdout.write(jsonLine({ executionState: executionState ?? null }));
        else {
          const state = executionState === undefined ? status : `${executionState.status}  version ${num(executionState.versionNumber)}  details ${details(executionState.statusDetails)}`;
          writeLines(io.stdout, [`${jobId}: ${state}`]);
        }
      });
    });
};
