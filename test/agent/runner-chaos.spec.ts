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
 * The runner through a flaky network: the emulator drops the device's connection (it reconnects after
 * 20 ms) right after StartNext and status updates go out. Every job must end SUCCEEDED, each handler must
 * run once, and every status must arrive without waiting for a deadline.
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

  it('run jobs - twelve drops with a StartNext or an update in flight: six jobs each run once and end SUCCEEDED, with no deadline waited out', async () => {
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
    const reconnected = new Observable<void>((subscriber) => port.connection$.subscribe((state) => { if (state === 'up') subscriber.next(); }));
    const jobs = createJobsClient({ thingName: 'thing-A', transport: mqttTransport(port), timeoutMs: 3000 });
    // Drops aimed at requests in flight: every second StartNext or UpdateJobExecution, twelve times, is cut
    // off just after its PUBLISH has left.
    let writes = 0;
    let drops = 0;
    client.on('packetsend', (packet) => {
      if (packet.cmd !== 'publish' || !/\/(start-next|update)$/.test(packet.topic) || drops >= 12) return;
      writes += 1;
      if (writes % 2 === 0) {
        setImmediate(() => {
          drops += emulator.faults.disconnect('thing-A');
        });
      }
    });
    const events: RunnerEvent[] = [];
    const started = Date.now();
    runner = runJobs(jobs, { ...quick, handlers: [work], journal: memoryJournal(), reconnected, pollIntervalMs: 500 }).subscribe((event) => events.push(event));
    const reported = (): RunnerEvent[] => events.filter((event) => event.kind === 'reported');
    await waitFor('six reported statuses', () => reported().length === jobIds.length, 30_000);
    const elapsedMs = Date.now() - started;
    expect(drops).toBe(12);
    expect(Object.fromEntries(runs)).toEqual(Object.fromEntries(jobIds.map((jobId) => [jobId, 1])));
    for (const jobId of jobIds) {
      const found = emulator.engine.describeExecution(jobId, 'thing-A');
      expect(found.ok && { status: found.value.status, statusDetails: found.value.statusDetails }).toEqual({ status: 'SUCCEEDED', statusDetails: { done: jobId } });
    }
    // Every drop was ridden out by the transport and the runner's retries: nothing surfaced as an error.
    expect(events.filter((event) => event.kind === 'error')).toEqual([]);
    // Each request cut off was sent again at the next grant, or failed at once. A lost one would wait for
    // its 3 s deadline instead: the run takes about a second; two lost ones would take it past this.
    expect(elapsedMs).toBeLessThan(6000);
  }, 40_000);
});
