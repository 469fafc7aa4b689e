/**
 * Lists a thing's pending job executions and describes the next one.
 *   npx tsx examples/describe.ts mqtt://127.0.0.1:1883 thing-A [jobId]
 */
import { firstValueFrom } from 'rxjs';
import { connectMqtt, createJobsClient, isJobsError, mqttTransport, type ConnectMqttOptions, type JobsClient } from '../src';
import { connectionFromArgs } from './connection';

/** Prints the thing's pending executions, then `jobId` (default the next one) described. */
export const printJobs = async (jobs: JobsClient, jobId = '$next'): Promise<void> => {
  const { inProgressJobs, queuedJobs } = await firstValueFrom(jobs.getPendingJobExecutions());
  console.log(`in progress: ${inProgressJobs.map((j) => j.jobId).join(', ') || '-'}`);
  console.log(`queued:      ${queuedJobs.map((j) => j.jobId).join(', ') || '-'}`);
  const { execution } = await firstValueFrom(jobs.describeJobExecution({ jobId }));
  console.log(execution === undefined ? `${jobId}: nothing pending` : JSON.stringify(execution, null, 2));
};

export const describeJobs = async (options: ConnectMqttOptions, thingName: string, jobId?: string): Promise<void> => {
  const client = await connectMqtt(options);
  try {
    await printJobs(createJobsClient({ thingName, transport: mqttTransport(client) }), jobId);
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
