import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deviceClientHandler } from '../../agent/device-client-handler';
import type { RunnerEvent } from '../../agent/events';
import { firmwareUpdateHandler } from '../../agent/firmware/handler';
import { runJobs } from '../../agent/run-jobs';
import { createJobsClient } from '../../client';
import type { JobExecutionStatus } from '../../codecs/job-execution';
import { startEmulator, type Emulator } from '../../emulator';
import { connectMqtt } from '../../transport/connect-mqtt';
import { mqttTransport } from '../../transport/mqtt';
import { renderProgress, type ProgressOptions } from '../progress';
import { NEVER, asyncScheduler, filter, fromEvent, lastValueFrom, mergeMap, scan, takeUntil, takeWhile, timeout } from '../rx';
import { type ExecutionRow, demoControlPlane } from './control-plane';
import { calibrateSensorHandler, collectDiagnosticsHandler, writeDemoHandlerFolder } from './handlers';

/**
 * `iot-jobs demo`: the whole product on loopback, in one process. The emulator starts; a fleet operator
 * (the control plane) queues four jobs for one device; the device runs them with the runner and shows
 * progress; the operator cancels one while it runs; a final table shows every execution as the service
 * records it. Deterministic: the expected outcome of each job is known, and the demo checks it.
 */

/** The device the demo plays. */
export const demoThing = 'demo-sensor-hub';

/** One job of the demo and the status it must end with. */
interface DemoJob {
  readonly jobId: string;
  readonly description: string;
  readonly document: unknown;
  readonly expected: JobExecutionStatus;
}

/** Options of {@link runDemo}. */
export interface DemoOptions extends ProgressOptions {
  /** Pacing of the demo's own handlers. Default 150 ms per step. */
  readonly stepMs?: number;
  /** The whole demo must end within this. Default 60 000 ms. */
  readonly deadlineMs?: number;
  /** Aborting it stops the demo, which cleans up and rejects with a {@link StoppedError} naming the reason. */
  readonly signal?: AbortSignal;
}

/** The demo was stopped (Ctrl-C, SIGTERM) before its jobs ended; everything it made is gone. */
export class StoppedError extends Error {
  override readonly name: 'Stopped';

  constructor(...args: ConstructorParameters<typeof Error>) {
    super(...args);
    this.name = 'Stopped';
  }
}

/** What the demo found. */
export interface DemoResult {
  readonly rows: readonly (ExecutionRow & { readonly expected: JobExecutionStatus })[];
  /** True when every execution ended as expected. */
  readonly ok: boolean;
}

/** A firmware image of `size` bytes that is the same on every run. */
const firmwareImage = (size: number): Buffer => {
  const blocks: Buffer[] = [];
  let block = createHash('sha256').update('iot-jobs-rx demo firmware 2.1.0').digest();
  for (let length = 0; length < size; length += block.length) {
    blocks.push(block);
    block = createHash('sha256').update(block).digest();
  }
  return Buffer.concat(blocks).subarray(0, size);
};

/** The device as it was before the demo: release 2.0.0 installed and active. */
const installPreviousRelease = (installDir: string): void => {
  mkdirSync(join(installDir, 'releases', '2.0.0'), { recursive: true });
  writeFileSync(join(installDir, 'releases', '2.0.0', 'firmware.bin'), 'release 2.0.0');
  symlinkSync(join('releases', '2.0.0'), join(installDir, 'current'));
};

const terminalOf = (event: RunnerEvent): string | undefined =>
  event.kind === 'reported' || event.kind === 'canceled' ? event.jobId : undefined;

/**
 * Runs the demo and resolves with the final table. Errors: rejects when the demo cannot finish within
 * `deadlineMs` (a bug) or the emulator cannot start.
 */
export const runDemo = async (options: DemoOptions): Promise<DemoResult> => {
  const { signal } = options;
  const stepMs = options.stepMs ?? 150;
  // Between the steps that wait: a stop that came meanwhile ends the demo there.
  const goOn = (): void => {
    if (signal?.aborted === true) throw new StoppedError(`${String(signal.reason)} came before the demo's jobs ended`);
  };
  const workDir = mkdtempSync(join(tmpdir(), 'iot-jobs-demo-'));
  let emulator: Emulator | undefined;
  let mqtt: Awaited<ReturnType<typeof connectMqtt>> | undefined;
  try {
    const installDir = join(workDir, 'device');
    installPreviousRelease(installDir);
    const handlerDir = writeDemoHandlerFolder(join(workDir, 'handlers'));
    emulator = await startEmulator();
    goOn();
    mqtt = await connectMqtt({ url: emulator.mqttUrl, clientId: demoThing });
    goOn();
    const image = firmwareImage(512 * 1024);
    const file = emulator.files.put('sensor-hub-2.1.0.bin', image);
    const jobs: readonly DemoJob[] = [
      {
        jobId: 'firmware-2-1-0',
        description: 'firmware update to 2.1.0: download with sha256 check, install, activate',
        document: { operation: 'firmware-update', version: '2.1.0', url: file.url, sha256: file.sha256, size: file.size },
        expected: 'SUCCEEDED',
      },
      { jobId: 'calibrate-bme280', description: 'sensor calibration that fails with a reason', document: { operation: 'calibrate-sensor', sensor: 'bme280' }, expected: 'FAILED' },
      {
        jobId: 'health-check',
        description: 'AWS IoT Device Client job document (runHandler from the allow-listed folder)',
        document: { version: '1.0', includeStdOut: true, steps: [{ action: { name: 'Check health', type: 'runHandler', input: { handler: 'health-check.sh', args: ['/data'] } } }] },
        expected: 'SUCCEEDED',
      },
      { jobId: 'collect-diagnostics', description: 'slow diagnostics, canceled by the operator while they run', document: { operation: 'collect-diagnostics', samples: 40 }, expected: 'CANCELED' },
    ];
    const control = demoControlPlane(emulator.controlEndpoint);
    for (const job of jobs) await control.createJob(job.jobId, demoThing, job.document, job.description);
    goOn();

    const client = createJobsClient({ thingName: demoThing, transport: mqttTransport(mqtt) });
    const runner = runJobs(client, {
      handlers: [
        firmwareUpdateHandler({ installDir }),
        calibrateSensorHandler(stepMs, asyncScheduler),
        collectDiagnosticsHandler(stepMs, asyncScheduler),
        deviceClientHandler({ handlerDir }),
      ],
      journal: join(workDir, 'journal.json'),
      progressIntervalMs: 100,
    });
    let canceled = false;
    const finished = runner.pipe(
      renderProgress(options),
      // The operator cancels the diagnostics once they are under way (force: it is IN_PROGRESS).
      mergeMap(async (event) => {
        if (!canceled && event.kind === 'progress' && event.jobId === 'collect-diagnostics' && (event.percent ?? 0) >= 30) {
          canceled = true;
          await control.cancelJob('collect-diagnostics', 'canceled by the demo operator while it ran');
        }
        return event;
      }, 1),
      scan((done, event) => {
        const jobId = terminalOf(event);
        return jobId === undefined ? done : new Set([...done, jobId]);
      }, new Set<string>()),
      takeWhile((done) => done.size < jobs.length, true),
      filter((done) => done.size === jobs.length),
      timeout({ first: options.deadlineMs ?? 60_000 }),
      takeUntil(signal === undefined ? NEVER : fromEvent(signal, 'abort')),
    );
    await lastValueFrom(finished, { defaultValue: undefined });
    goOn();
    const rows = await Promise.all(jobs.map(async (job) => ({ ...(await control.describeExecution(job.jobId, demoThing)), expected: job.expected })));
    return { rows, ok: rows.every((row) => row.status === row.expected) };
  } finally {
    await mqtt?.endAsync();
    await emulator?.close();
    rmSync(workDir, { recursive: true, force: true });
  }
};
