/**
 * The two HTTPS clients of bench/https.ts, both on the emulator child's data plane (plain HTTP, SigV4):
 * ours (the built package: httpsTransport → createJobsClient) and the official
 * @aws-sdk/client-iot-jobs-data-plane, each with its default agent settings, doing the same
 * describeJobExecution of the bench job, reply checked.
 */
import { createRequire } from 'node:module';
import { firstValueFrom } from 'rxjs';
import type * as Library from '../../src/index';
import { benchCredentials, benchJobId, benchRegion } from './config';
import { oursEntry, requestTimeoutMs, type BenchClient } from './harness';

/** Ours, from the built package (see `oursEntry`): httpsTransport (default options, SigV4) → createJobsClient. */
export const oursHttpClient = (endpoint: string, thingName: string): BenchClient => {
  const library = createRequire(__filename)(oursEntry) as typeof Library;
  const transport = library.httpsTransport({ endpoint, region: benchRegion, credentials: benchCredentials });
  const jobs = library.createJobsClient({ thingName, transport, timeoutMs: requestTimeoutMs });
  return {
    describe: async () => {
      const reply = await firstValueFrom(jobs.describeJobExecution({ jobId: benchJobId }));
      if (reply.execution?.jobId !== benchJobId) throw new Error('ours (https): unexpected reply');
    },
    // The transport's keep-alive sockets are idle and unref'd; the server child closes them on exit.
    close: () => Promise.resolve(),
  };
};

/** @aws-sdk/client-iot-jobs-data-plane: IoTJobsDataPlaneClient + DescribeJobExecutionCommand, SDK defaults. */
export const sdkHttpClient = async (endpoint: string, thingName: string): Promise<BenchClient> => {
  const { IoTJobsDataPlaneClient, DescribeJobExecutionCommand } = await import('@aws-sdk/client-iot-jobs-data-plane');
  const client = new IoTJobsDataPlaneClient({ endpoint, region: benchRegion, credentials: benchCredentials });
  return {
    describe: async () => {
      const reply = await client.send(new DescribeJobExecutionCommand({ thingName, jobId: benchJobId }), { abortSignal: AbortSignal.timeout(requestTimeoutMs) });
      if (reply.execution?.jobId !== benchJobId) throw new Error('sdk (https): unexpected reply');
    },
    close: () => {
      client.destroy();
      return Promise.resolve();
    },
  };
};
