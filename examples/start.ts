/**
 * `npm start`: a self-contained run on loopback, no cloud. It starts the emulator in process, watches the
 * thing's notifications with examples/watch.ts, queues two jobs, runs them through the client, and exits 0.
 */
import { firstValueFrom, lastValueFrom, take, tap } from 'rxjs';
import { connectMqtt, createJobsClient, mqttTransport } from '../src';
import { startEmulator } from '../src/emulator';
import { watchLines } from './watch';

const main = async (): Promise<void> => {
  const emulator = await startEmulator();
  const client = await connectMqtt({ url: emulator.mqttUrl, clientId: 'thing-A' });
  const jobs = createJobsClient({ thingName: 'thing-A', transport: mqttTransport(client) });
  console.log(`emulator on ${emulator.mqttUrl}; watching thing-A`);
  // 2 jobs queued (2 notify, 1 notify-next: the second is not the head) and 2 completed (2 + 2): 7 lines.
  const watched = lastValueFrom(watchLines(jobs).pipe(take(7), tap((line) => {
      console.log(`  ${line}`);
    })));
  await firstValueFrom(jobs.getPendingJobExecutions()); // the subscriptions are up once a request went through
  await new Promise((resolve) => setTimeout(resolve, 50));
  for (const [jobId, document] of [
    ['firmware-1', { operation: 'install', version: '1.2.0' }],
    ['reboot-1', { operation: 'reboot' }],
  ] as const) {
    emulator.engine.createJob({ jobId, targets: ['arn:aws:iot:us-east-1:123456789012:thing/thing-A'], document: JSON.stringify(document) });
  }
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
  await emulator.close();
};

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
