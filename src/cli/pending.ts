import type { Command } from 'commander';
import type { JobExecutionSummary } from '../codecs/job-execution';
import { deviceCommand, withClient } from './device-command';
import type { CliIo } from './io';
import { jsonLine, num, table, when, writeLines } from './output';
import { firstValueFrom } from './rx';

const rows = (status: string, jobs: readonly JobExecutionSummary[]): string[][] =>
  jobs.map((job) => [status, job.jobId, num(job.executionNumber), num(job.versionNumber), when(job.queuedAt), when(job.lastUpdatedAt)]);

/**
 * `iot-jobs pending`: GetPendingJobExecutions, as a table (IN_PROGRESS first, then QUEUED). `--json` prints
 * `{"inProgressJobs": [...], "queuedJobs": [...]}`.
 */
export const pendingCommand = (program: Command, io: CliIo): void => {
  deviceCommand(program, 'pending', "list the thing's pending job executions (in progress and queued)").action(async (_flags: unknown, command: Command) => {
    await withClient(command, io, async ({ opened, settings, json }) => {
      const { inProgressJobs, queuedJobs } = await firstValueFrom(opened.client.getPendingJobExecutions());
      if (json) {
        io.stdout.write(jsonLine({ inProgressJobs, queuedJobs }));
        return;
      }
      const body = [...rows('IN_PROGRESS', inProgressJobs), ...rows('QUEUED', queuedJobs)];
      writeLines(
        io.stdout,
        body.length === 0 ? [`no pending job executions for ${settings.thingName}`] : table([['STATUS', 'JOB', 'EXECUTION', 'VERSION', 'QUEUED', 'UPDATED'], ...body]),
      );
    });
  });
};
