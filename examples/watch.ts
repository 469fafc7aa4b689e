/**
 * Prints job notifications (notify and notify-next) as they come, until Ctrl-C.
 *   npx tsx examples/watch.ts mqtt://127.0.0.1:1883 thing-A
 */
import { merge, map, ignoreElements, tap, takeUntil, fromEvent, type Observable } from 'rxjs';
import { connectMqtt, createJobsClient, fromMqttClient, isJobsError, mqttTransport, type JobsClient } from '../src';
import { connectionFromArgs } from './connection';

/**
 * One line per notification. One that cannot be decoded is left out of its stream and comes on
 * `eventDecodeErrors()`: printed on stderr, and the watch goes on.
 */
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
    jobs.eventDecodeErrors().pipe(
      tap((error) => {
        console.error(`${error.name}: ${error.message}`);
      }),
      ignoreElements(),
    ),
  );

if (require.main === module) {
  const { options, thingName } = connectionFromArgs(process.argv.slice(2));
  connectMqtt(options)
    .then((client) => {
      const jobs = createJobsClient({ thingName, transport: mqttTransport(client) });
      console.log(`watching jobs of ${thingName} on ${options.url} (Ctrl-C to stop)`);
      // Notifications sent while the connection is down are lost (AWS does not queue them): say so.
      const connection = fromMqttClient(client)
        .connection$.pipe(takeUntil(fromEvent(process, 'SIGINT')))
        .subscribe((state) => {
          if (state === 'down') console.error('connection lost (another client with this client id?); reconnecting');
          if (state === 'up') console.error('reconnected: notifications sent meanwhile were lost; examples/describe.ts shows where things stand');
        });
      watchLines(jobs)
        .pipe(takeUntil(fromEvent(process, 'SIGINT')))
        .subscribe({
          next: (line) => {
            console.log(line);
          },
          // The transport failed (a refused subscription, say): report it and stop.
          error: (error: unknown) => {
            console.error(isJobsError(error) ? `${error.name}: ${error.message}` : error);
            process.exitCode = 1;
            connection.unsubscribe();
            void client.endAsync();
          },
          complete: () => {
            connection.unsubscribe();
            void client.endAsync();
          },
        });
    })
    .catch((error: unknown) => {
      console.error(isJobsError(error) ? `${error.name}: ${error.message}` : error);
      process.exitCode = 1;
    });
}
