import type { Command } from 'commander';
import type { JobExecutionsChangedEvent, NextJobExecutionChangedEvent } from '../codecs/events';
import { millisecondsArg } from './args';
import { deviceCommand, withClient } from './device-command';
import { formatError } from './errors';
import type { CliIo } from './io';
import { jsonLine } from './output';
import { ignoreElements, lastValueFrom, map, merge, takeUntil, tap } from './rx';
import { stopRequested } from './stop';

const ids = (jobs: JobExecutionsChangedEvent['jobs']['QUEUED']): string => (jobs ?? []).map((job) => job.jobId).join(',') || '-';

const notifyLine = (json: boolean) => ({ jobs, timestamp }: JobExecutionsChangedEvent): string =>
  json
    ? jsonLine({ event: 'notify', timestamp, jobs })
    : `${timestamp.toISOString()} notify      in progress: ${ids(jobs.IN_PROGRESS)}  queued: ${ids(jobs.QUEUED)}\n`;

const nextLine = (json: boolean) => ({ execution, timestamp }: NextJobExecutionChangedEvent): string =>
  json
    ? jsonLine({ event: 'notify-next', timestamp, execution: execution ?? null })
    : `${timestamp.toISOString()} notify-next ${execution === undefined ? '(queue empty)' : `${execution.jobId} ${execution.status}`}\n`;


/**
 * `iot-jobs watch`: prints `notify` and `notify-next` as they come (over HTTPS: as polling finds changes)
 * until SIGINT or SIGTERM, then closes the connection and exits 0. Once subscribed, it reads the pending
 * executions and writes one status line to stderr: from then on no change is missed. `--json` prints
 * `{"event":"notify","timestamp":…,"jobs":{…}}` and `{"event":"notify-next","timestamp":…,"execution":{…}|null}`.
 */
export const watchCommand = (program: Command, io: CliIo): void => {
  deviceCommand(program, 'watch', 'print job notifications (notify, notify-next) as they come, until Ctrl-C')
    .option('--poll-interval <ms>', 'HTTPS only: pause between polls (default 60000)', millisecondsArg)
    .action(async (flags: { pollInterval?: number }, command: Command) => {
      await withClient(
        command,
        io,
        async ({ opened: { client }, settings, json }) => {
          // A notification that cannot be decoded is reported on stderr; the streams go on. Any other error
          // ends the watch.
          const events$ = merge(
            client.jobExecutionsChanged().pipe(map(notifyLine(json))),
            client.nextJobExecutionChanged().pipe(map(nextLine(json))),
            client.eventDecodeErrors().pipe(
              tap((error) => io.stderr.write(formatError(error, false))),
              ignoreElements(),
            ),
          );
          // Subscribed after the notifications: its reply means their subscriptions are in place.
          const ready$ = client.getPendingJobExecutions().pipe(
            tap(({ inProgressJobs, queuedJobs }) => {
              io.stderr.write(
                `iot-jobs: watching ${settings.thingName} on ${settings.endpoint}: ${inProgressJobs.length} in progress, ${queuedJobs.length} queued (Ctrl-C to stop)\n`,
              );
            }),
            ignoreElements(),
          );
          await lastValueFrom(
            merge(events$, ready$).pipe(
              tap((line) => io.stdout.write(line)),
              takeUntil(stopRequested(io)),
            ),
            { defaultValue: '' },
          );
        },
        flags.pollInterval === undefined ? {} : { pollIntervalMs: flags.pollInterval },
        { stoppable: true },
      );
    });
};
