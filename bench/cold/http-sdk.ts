// Cold start of the official @aws-sdk/client-iot-jobs-data-plane against the same data plane: plain `node`,
// require → IoTJobsDataPlaneClient (static credentials) → one DescribeJobExecutionCommand → print one JSON
// line → client.destroy() → exit by itself. No connect step: the first request opens the socket.
import { createRequire } from 'node:module';
import { benchCredentials, benchRegion } from '../lib/config';
import { args, fail, guard, report } from './report';

const tStart = performance.now();
const { url, thingName, jobId } = args();
const timer = guard();

const { IoTJobsDataPlaneClient, DescribeJobExecutionCommand } = createRequire(__filename)('@aws-sdk/client-iot-jobs-data-plane') as typeof import('@aws-sdk/client-iot-jobs-data-plane');
const tRequired = performance.now();

const main = async (): Promise<void> => {
  const client = new IoTJobsDataPlaneClient({ endpoint: url, region: benchRegion, credentials: benchCredentials });
  const reply = await client.send(new DescribeJobExecutionCommand({ thingName, jobId }));
  const tReply = performance.now();
  const { rss, heapUsed } = process.memoryUsage();
  if (reply.execution?.jobId !== jobId) throw new Error(`unexpected reply ${JSON.stringify(reply)}`);
  report({ client: 'http-sdk', startMs: tStart, requireMs: tRequired - tStart, connectMs: 0, describeMs: tReply - tRequired, firstReplyMs: tReply, rss, heapUsed });
  client.destroy();
  clearTimeout(timer);
};

main().catch(fail);
