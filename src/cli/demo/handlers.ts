import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as t from 'io-ts';
import { type SchedulerLike, concat, map, of, take, timer } from '../../rx-extra';
import { defineHandler, failed, progress, succeeded, type HandlerEvent, type JobHandler } from '../../agent/handler';

/**
 * The demo's own in-process handlers: one that fails with a reason, and a slow one the demo cancels while
 * it runs. (The firmware update and the Device Client job use the library's handlers.)
 */

/** A sensor calibration that always fails: what a handler's FAILED with a reason looks like. */
export const calibrateSensorHandler = (stepMs: number, scheduler: SchedulerLike): JobHandler<{ readonly sensor: string }> =>
  defineHandler({
    name: 'calibrate-sensor',
    document: t.type({ operation: t.literal('calibrate-sensor'), sensor: t.string }),
    run: (job) =>
      concat(
        of(progress(20, { sensor: job.document.sensor }, 'probe')),
        timer(stepMs, scheduler).pipe(
          map((): HandlerEvent => failed(`sensor ${job.document.sensor} did not answer on i2c bus 1 (address 0x76)`, { sensor: job.document.sensor })),
        ),
      ),
  });

/** Diagnostics that take `samples` steps of `stepMs`: long enough for the demo to cancel them. */
export const collectDiagnosticsHandler = (stepMs: number, scheduler: SchedulerLike): JobHandler<{ readonly samples: number }> =>
  defineHandler({
    name: 'collect-diagnostics',
    document: t.type({ operation: t.literal('collect-diagnostics'), samples: t.number }),
    run: (job) =>
      concat(
        timer(0, stepMs, scheduler).pipe(
          take(job.document.samples),
          map((n): HandlerEvent => progress(((n + 1) / job.document.samples) * 100, { samples: String(n + 1) }, 'sample')),
        ),
        of(succeeded({ samples: String(job.document.samples) })),
      ),
  });

/** The Device Client handler script the demo's health-check job runs (a folder of allow-listed handlers). */
export const writeDemoHandlerFolder = (folder: string): string => {
  mkdirSync(folder, { recursive: true, mode: 0o700 });
  const script = join(folder, 'health-check.sh');
  writeFileSync(script, '#!/bin/sh\n# Demo Device Client handler: $1 is runAsUser, then the job\'s arguments.\necho "disk: ok ($2)"\necho "memory: ok"\n');
  chmodSync(script, 0o700);
  return folder;
};
