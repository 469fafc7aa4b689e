/**
 * Polls a thing's jobs over HTTPS and prints notifications as they come, until Ctrl-C. HTTPS has no push:
 * the transport polls and emits the same notify / notify-next events MQTT would (examples/watch.ts prints
 * them), so only changes are printed, at most one poll interval late.
 *   npx tsx examples/https-poller.ts https://127.0.0.1:8443 thing-A [pollSeconds]
 *
 * Credentials, from the environment:
 *   IOT_JOBS_CERT, IOT_JOBS_KEY   PEM file paths: device-certificate mode, no SigV4 (AWS: the account's
 *                                 iot:Jobs endpoint, port 8443 by default)
 *   AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN   SigV4 instead (AWS: data.jobs.iot.<region>.amazonaws.com);
 *                                 AWS_REGION when the endpoint names no region
 *   IOT_JOBS_CA                   PEM file path of the CA to trust (the emulator's ca.crt)
 *
 * Against the emulator (`npm run iot-jobs -- emulator --tls ./certs` in this repository, HTTPS on 8443):
 *   IOT_JOBS_CERT=certs/thing-A.crt IOT_JOBS_KEY=certs/thing-A.key IOT_JOBS_CA=certs/ca.crt \
 *     npx tsx examples/https-poller.ts https://127.0.0.1:8443 thing-A 5
 */
import { readFileSync } from 'node:fs';
import { fromEvent, map, merge, retry, takeUntil, timer, type Observable } from 'rxjs';
import { createJobsClient, environmentCredentials, httpsTransport, isJobsError, type HttpsTransportOptions, type JobsClient } from '../src';
import { watchLines } from './watch';

/**
 * Transport options from the environment (see the file comment): SigV4 when AWS_ACCESS_KEY_ID is set, else
 * the device certificate. Exits with usage when there is neither.
 */
export const httpsOptionsFromEnv = (endpoint: string, env: Readonly<Record<string, string | undefined>> = process.env): HttpsTransportOptions => {
  const pem = (name: string): Buffer | undefined => {
    const path = env[`IOT_JOBS_${name}`];
    return path === undefined ? undefined : readFileSync(path);
  };
  const [cert, key, ca] = [pem('CERT'), pem('KEY'), pem('CA')];
  const tls = { ...(cert === undefined ? {} : { cert }), ...(key === undefined ? {} : { key }), ...(ca === undefined ? {} : { ca }) };
  if (env['AWS_ACCESS_KEY_ID'] !== undefined) {
    const region = env['AWS_REGION'] ?? env['AWS_DEFAULT_REGION'];
    return { endpoint, credentials: environmentCredentials(env), tls, ...(region === undefined ? {} : { region }) };
  }
  if (cert === undefined || key === undefined) {
    console.error('set IOT_JOBS_CERT and IOT_JOBS_KEY (device certificate), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (SigV4)');
    process.exit(2);
  }
  return { endpoint, tls };
};

/**
 * The notification lines, and the streams subscribed again `retryMs` after a failure (after `failureLimit`
 * polls in a row failed: the network is down, say), so an outage does not end the poller.
 */
export const pollerLines = (jobs: JobsClient, retryMs: number): Observable<string> =>
  watchLines(jobs).pipe(
    retry({
      delay: (error: unknown) => {
        console.error(`${isJobsError(error) ? `${error.name}: ${error.message}` : String(error)}; polling again in ${retryMs / 1000} s`);
        return timer(retryMs);
      },
    }),
  );

if (require.main === module) {
  const [endpoint, thingName, seconds = '15'] = process.argv.slice(2);
  const pollSeconds = Number(seconds);
  if (endpoint === undefined || thingName === undefined || !(pollSeconds > 0)) {
    console.error('usage: <https://host:port | host> <thingName> [pollSeconds, default 15]');
    process.exit(2);
  }
  try {
    const options = httpsOptionsFromEnv(endpoint);
    const jobs = createJobsClient({ thingName, transport: httpsTransport({ ...options, pollIntervalMs: pollSeconds * 1000 }) });
    const mode = options.credentials === undefined ? 'device certificate' : 'SigV4';
    console.log(`polling jobs of ${thingName} on ${endpoint} every ${pollSeconds} s (${mode}; Ctrl-C to stop)`);
    // Subscribe to the changes first, then ask for the current state: the first poll is only a baseline.
    const now$ = jobs.getPendingJobExecutions().pipe(
      map(({ inProgressJobs, queuedJobs }) => {
        const list = (summaries: readonly { jobId: string }[]) => summaries.map((j) => j.jobId).join(',') || '-';
        return `${new Date().toISOString()} pending now in progress: ${list(inProgressJobs)}  queued: ${list(queuedJobs)}`;
      }),
    );
    merge(pollerLines(jobs, pollSeconds * 1000), now$)
      .pipe(takeUntil(fromEvent(process, 'SIGINT')))
      .subscribe({
        next: (line) => {
          console.log(line);
        },
        // A failed first query (bad credentials, wrong endpoint) ends the example; the streams are retried.
        error: (error: unknown) => {
          console.error(isJobsError(error) ? `${error.name}: ${error.message}` : error);
          process.exitCode = 1;
        },
      });
  } catch (error) {
    console.error(isJobsError(error) ? `${error.name}: ${error.message}` : error);
    process.exitCode = 1;
  }
}
