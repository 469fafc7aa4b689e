/**
 * Lists a thing's pending job executions and describes the next one.
 *   npx tsx examples/describe.ts mqtt://127.0.0.1:1883 thing-A [jobId]
 */
import { firstValueFrom } from 'rxjs';
import { connectMqtt, createJobsClient, isJobsError, mqttTransport, type ConnectMqttOptions } from '../src';
import { connectionFromArgs } from './connection';

export const describeJobs = async (options: ConnectMqttOptions, thingName: string, jobId = '$next'): Promise<void> => {
  const client = await connectMqtt(options);
  try {
    const jobs = createJobsClient({ thingName, transport: mqttTransport(client) });
    const { inProgressJobs, queuedJobs } = await firstValueFrom(jobs.getPendingJobExecutions());
    console.log(`in progress: ${inProgressJobs.map((j) => j.jobId).join(', ') || '-'}`);
    console.log(`queued:      ${queuedJobs.map((j) => j.jobId).join(', ') || '-'}`);
    const { execution } = await firstValueFrom(jobs.describeJobExecution({ jobId }));
    console.log(execution === undefined ? `${jobId}: nothing pending` : JSON.stringify(execution, null, 2));
  } finally {
    await client.endAsync();
  }
};

if (require.main === module) {
  const { options, thingName, rest } = connectionFromArgs(process.argv.slice(2));
  describeJobs(options, thingName, rest[0]).catch((error: unknown) => {
    console.error(isJobsError(error) ? `${error.name}: ${error.message}` : error);
    process.exitCode = 1;
  });
}
