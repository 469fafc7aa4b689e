/**
 * Prints job notifications (notify and notify-next) as they come, until Ctrl-C.
 *   npx tsx examples/watch.ts mqtt://127.0.0.1:1883 thing-A
 */
import { merge, map, retry, takeUntil, fromEvent, type Observable } from 'rxjs';
import { connectMqtt, createJobsClient, isJobsError, mqttTransport, type JobsClient } from '../src';
import { connectionFromArgs } from './connection';

/** One line per notification; a malformed payload is reported and the stream resubscribes. */
export const watchLines = (jobs: JobsClient): Observable<string> =>
  merge(
    jobs.jobExecutionsChanged().pipe(
      map(({ jobs: pending, timestamp }) => {
        const list = (status: 'IN_PROGRESS' | 'QUEUED') => (pending[status] ?? []).map((j) => j.jobId).join(',') || '-';
        return `${timestamp.toISOString()} notify      in progress: ${list('IN_PROGRESS')}  queued: ${list('QUEUED')}`;
      }),
    ),
    jobs.nextJobExecutionChanged().pipe(
      map(({ execution, timestamp }) =>
        `${timestamp.toISOString()} notify-next ${execution === undefined ? '(queue empty)' : `${execution.jobId} ${execution.status}`}`,
      ),
    ),
  ).pipe(
    retry({
      delay: (error: unknown) => {
        console.error(isJobsError(error) ? `${error.name}: ${error.message}` : error);
        return [0];
      },
    }),
  );

if (require.main === module) {
  const { options, thingName } = connectionFromArgs(process.argv.slice(2));
  connectMqtt(options)
    .then((client) => {
      const jobs = createJobsClient({ thingName, transport: mqttTransport(client) });
      console.log(`watching jobs of ${thingName} on ${options.url} (Ctrl-C to stop)`);
      watchLines(jobs)
        .pipe(takeUntil(fromEvent(process, 'SIGINT')))
        .subscribe({
          next: (line) => {
            console.log(line);
          },
          complete: () => {
            void client.endAsync();
          },
        });
    })
    .catch((error: unknown) => {
      console.error(isJobsError(error) ? `${error.name}: ${error.message}` : error);
      process.exitCode = 1;
    });
}
