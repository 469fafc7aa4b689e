import * as t from 'io-ts';
import type { MqttClient } from 'mqtt';
import { Observable, map, timer, type Subscription } from 'rxjs';
import { defineHandler, succeeded } from '../../src/agent/handler';
import { memoryJournal } from '../../src/agent/journal';
import { runJobs } from '../../src/agent/run-jobs';
import type { RunnerEvent } from '../../src/agent/events';
import { connectMqtt, createJobsClient, fromMqttClient, mqttTransport } from '../../src';
import { startEmulator, type Emulator } from '../../src/emulator';
import { waitFor } from '../transport/mqtt-port.contract';
import { quick } from './runner-harness';

/**
 * The runner through a flaky network: the emulator drops the device's connection every 60 ms (it reconnects
 * after 20 ms) while jobs run. Every job must end SUCCEEDED, each handler must run once, and every status must arrive.
 */
describe('runJobs on the emulator while the connection keeps dropping', () => {
  let emulator: Emulator;
  let client: MqttClient;
  let runner: Subscription | undefined;

  beforeEach(async () => {
    emulator = await startEmulator();
    client = await connectMqtt({ url: emulator.mqttUrl, clientId: 'thing-A', reconnectPeriodMs: 20 });
  });

  afterEach(async () => {
    runner?.unsubscribe();
    await client.endAsync(true);
    await emulator.close();
  });

  it('run jobs - a connection dropped every 60 ms: six jobs each run once and all end SUCCEEDED with their details', async () => {
    const jobIds = ['job-1', 'job-2', 'job-3', 'job-4', 'job-5', 'job-6'];
    for (const jobId of jobIds) {
      const created = emulator.engine.createJob({ jobId, targets: ['arn:aws:iot:us-east-1:123456789012:thing/thing-A'], document: JSON.stringify({ operation: 'work' }) });
      if (!created.ok) throw new Error(created.message);
    }
    const runs = new Map<string, number>();
    const work = defineHandler({
      name: 'work',
      document: t.type({ operation: t.literal('work') }),
      run: (job) => {
        runs.set(job.jobId, (runs.get(job.jobId) ?? 0) + 1);
        return timer(120).pipe(map(() => succeeded({ done: job.jobId })));
      },
    });
    const port = fromMqttClient(client);
    const reconnected = new Observable<void>((subscriber) => port.connection$?.subscribe((state) => { if (state === 'up') subscriber.next(); }));
    const jobs = createJobsClient({ thingName: 'thing-A', transport: mqttTransport(port), timeoutMs: 1000 });
    const events: RunnerEvent[] = [];
    runner = runJobs(jobs, { ...quick, handlers: [work], journal: memoryJournal(), reconnected, pollIntervalMs: 500 }).subscribe((event) => events.push(event));
    let drops = 0;
    const chaos = setInterval(() => {
      drops += emulator.faults.disconnect('thing-A');
    }, 60);
    try {
      await waitFor('every job SUCCEEDED', () => jobIds.every((jobId) => {
        const found = emulator.engine.describeExecution(jobId, 'thing-A');
        return found.ok && found.value.status === 'SUCCEEDED';
      }), 30_000);
    } finally {
      clearInterval(chaos);
    }
    expect(drops).toBeGreaterThan(10);
    // Every drop was ridden out by the transport and the runner's retries: nothing surfaced as an error.
    expect(events.filter((event) => event.kind === 'error')).toEqual([]);
    expect(Object.fromEntries(runs)).toEqual(Object.fromEntries(jobIds.map((jobId) => [jobId, 1])));
    for (const jobId of jobIds) {
      const found = emulator.engine.describeExecution(jobId, 'thing-A');
      expect(found.ok && found.value.statusDetails).toEqual({ done: jobId });
    }
  }, 40_000);
});
