/**
 * `npm start`: a self-contained run on loopback, no cloud. It starts an in-process MQTT broker with a small
 * Jobs responder (test/helpers; the emulator replaces both in a later release), watches the thing's
 * notifications with examples/watch.ts, queues two jobs, runs them through the client, and exits 0.
 */
import { firstValueFrom, lastValueFrom, take, tap } from 'rxjs';
import { connectMqtt, createJobsClient, mqttTransport } from '../src';
import { startBroker } from '../test/helpers/broker';
import { startResponder } from '../test/helpers/responder';
import { watchLines } from './watch';

const main = async (): Promise<void> => {
  const broker = await startBroker();
  const responder = await startResponder(broker.url);
  const client = await connectMqtt({ url: broker.url, clientId: 'thing-A' });
  const jobs = createJobsClient({ thingName: 'thing-A', transport: mqttTransport(client) });
  console.log(`broker on ${broker.url}; watching thing-A`);
  // 2 jobs queued (2 notify + 2 notify-next) and 2 completed (2 + 2): 8 lines.
  const watched = lastValueFrom(watchLines(jobs).pipe(take(8), tap((line) => {
      console.log(`  ${line}`);
    })));
  await firstValueFrom(jobs.getPendingJobExecutions()); // the subscriptions are up once a request went through
  await new Promise((resolve) => setTimeout(resolve, 50));
  responder.addJob('thing-A', 'firmware-1', { operation: 'install', version: '1.2.0' });
  responder.addJob('thing-A', 'reboot-1', { operation: 'reboot' });
  for (;;) {
    const { execution } = await firstValueFrom(jobs.startNextPendingJobExecution({ statusDetails: { step: 'start' } }));
    if (execution === undefined) break;
    console.log(`running ${execution.jobId}: ${JSON.stringify(execution.jobDocument)}`);
    const { executionState } = await firstValueFrom(
      jobs.updateJobExecution({
        jobId: execution.jobId,
        status: 'SUCCEEDED',
        statusDetails: { result: 'ok' },
        ...(execution.versionNumber === undefined ? {} : { expectedVersion: execution.versionNumber }),
        includeJobExecutionState: true,
      }),
    );
    console.log(`${execution.jobId}: ${executionState?.status ?? '?'} (version ${executionState?.versionNumber ?? '?'})`);
  }
  await watched;
  await client.endAsync();
  await responder.close();
  await broker.close();
};

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
