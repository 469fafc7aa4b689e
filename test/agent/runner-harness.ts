import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { Observable, ReplaySubject, type Subscription, filter, firstValueFrom, take, timeout } from 'rxjs';
import { type HandlerEvent, type JobHandler, progress } from '../../src/agent/handler';
import { type JobId, type JobsClient, connectMqtt, createJobsClient, isJobId, mqttTransport } from '../../src';
import { type RunJobsOptions, runJobs } from '../../src/agent/run-jobs';
import type { RunnerEvent } from '../../src/agent/events';
import { type Emulator, type EmulatorOptions, startEmulator } from '../../src/emulator';

/** One emulator, one MQTT connection for thing-A, and runners started on it, for the runner's tests. */
export interface Harness {
  readonly emulator: Emulator;
  readonly mqtt: MqttClient;
  readonly jobs: JobsClient;
  readonly dir: string;
  addJob(jobId: string, document: unknown): void;
  /** Starts a runner (on `client`, default the harness's); its events are recorded. */
  start(options: Partial<RunJobsOptions> & Pick<RunJobsOptions, 'handlers'>, client?: JobsClient): Runner;
  status(jobId: string): { status: string; statusDetails: Record<string, string>; versionNumber: number };
  close(): Promise<void>;
}

/** A started runner. */
export interface Runner {
  readonly events: RunnerEvent[];
  /** The first event (past or future) matching `predicate`. */
  waitFor(predicate: (event: RunnerEvent) => boolean, ms?: number): Promise<RunnerEvent>;
  stop(): void;
}

/** Options that make the runner quick on real time. */
export const quick = { progressIntervalMs: 20, retry: { baseDelayMs: 20, maxDelayMs: 100 }, resubscribeDelayMs: 50 } as const;

export const createHarness = async (thingName = 'thing-A', timeoutMs = 2000, emulatorOptions: EmulatorOptions = {}): Promise<Harness> => {
  const emulator = await startEmulator(emulatorOptions);
  const mqtt = await connectMqtt({ url: emulator.mqttUrl, clientId: thingName });
  const jobs = createJobsClient({ thingName, transport: mqttTransport(mqtt, { lingerMs: 0 }), timeoutMs });
  const runners: Subscription[] = [];
  return {
    emulator,
    mqtt,
    jobs,
    dir: mkdtempSync(join(tmpdir(), 'iot-jobs-runner-')),
    addJob: (jobId, document) => {
      const result = emulator.engine.createJob({ jobId, targets: [`arn:aws:iot:us-east-1:123456789012:thing/${thingName}`], document: JSON.stringify(document) });
      if (!result.ok) throw new Error(result.message);
    },
    start: (options, client = jobs) => {
      const events: RunnerEvent[] = [];
      const all = new ReplaySubject<RunnerEvent>();
      const subscription = runJobs(client, { ...quick, ...options }).subscribe({
        next: (event) => {
          events.push(event);
          all.next(event);
        },
        error: (error: unknown) => {
          all.error(error);
        },
      });
      runners.push(subscription);
      return {
        events,
        waitFor: (predicate, ms = 5000) => firstValueFrom(all.pipe(filter(predicate), take(1), timeout(ms))),
        stop: () => {
          subscription.unsubscribe();
        },
      };
    },
    status: (jobId) => {
      const result = emulator.engine.describeExecution(jobId, thingName);
      if (!result.ok) throw new Error(result.message);
      const { status, statusDetails, versionNumber } = result.value;
      return { status, statusDetails, versionNumber };
    },
    close: async () => {
      for (const runner of runners) runner.unsubscribe();
      await mqtt.endAsync(true);
      await emulator.close();
    },
  };
};

/** Event kinds in order, for compact assertions. */
export const kinds = (events: readonly RunnerEvent[], jobId?: string): string[] =>
  events.filter((event) => jobId === undefined || ('jobId' in event && event.jobId === jobId)).map((event) => event.kind);

/** A job id for journal calls, checked like the service would. */
export const jobIdOf = (value: string): JobId => {
  if (!isJobId(value)) throw new Error(`not a job id: ${value}`);
  return value;
};

/** A handler for any document that emits one progress in step `step`, then waits until aborted; records the abort. */
/** A handler's `match` that claims every document as it is. */
export const anyDocument: JobHandler['match'] = (document) => ({ ok: true, document });

/** A handler that claims every job and ends it at once, with no details. */
export const completingHandler = (name: string): JobHandler => ({ name, match: anyDocument, run: () => new Observable<HandlerEvent>((subscriber) => { subscriber.complete(); }) });

export const waitingHandler = (aborted: { value: boolean }, step = 'waiting'): JobHandler => ({
  name: 'waiting',
  match: anyDocument,
  run: (job) =>
    new Observable<HandlerEvent>((subscriber) => {
      job.signal.addEventListener('abort', () => {
        aborted.value = true;
      });
      subscriber.next(progress(10, {}, step));
    }),
});
