/**
 * A firmware / application updater for a Raspberry Pi (or any Linux device), run by systemd
 * (iot-jobs-updater.service beside this file; docs/raspberry-pi.md walks through the set-up):
 *
 *   npx tsx examples/firmware-updater/index.ts /etc/iot-jobs/updater.json
 *
 * It connects to AWS IoT Core with the device certificate (mutual TLS), then runs the thing's jobs with the
 * firmware updater handler: `{"operation":"firmware-update","version":…,"url":…,"sha256":…}` documents are
 * downloaded, verified, installed under `installDir`, activated (with a reboot if configured), self-tested,
 * and rolled back when unhealthy. The journal makes it survive power loss and reboots. One log line per
 * runner event; SIGINT / SIGTERM stop it cleanly (a running job is resumed on the next start).
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { isLeft } from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { PathReporter } from 'io-ts/lib/PathReporter.js';
import { type Observable, filter, fromEvent, map, merge, take, takeUntil } from 'rxjs';
import { connectMqtt, createJobsClient, fromMqttClient, isJobsError, mqttTransport } from '../../src';
import { type RunnerEvent, firmwareUpdateHandler, runJobs } from '../../src/agent';

const Argv = t.array(t.string);

/** The updater's configuration file (see config.example.json). */
export const UpdaterConfig = t.intersection([
  t.type({
    /** `mqtts://<prefix>-ats.iot.<region>.amazonaws.com` (or `mqtt://127.0.0.1:1883` for the emulator). */
    endpoint: t.string,
    thingName: t.string,
    /** The folder the updater owns: releases/, current, downloads/. */
    installDir: t.string,
    /** The runner's journal, e.g. /var/lib/iot-jobs/journal.json (systemd's StateDirectory). */
    journal: t.string,
  }),
  t.partial({
    /** PEM files for mutual TLS: device certificate, private key, Amazon root CA(s). */
    cert: t.string,
    key: t.string,
    ca: t.string,
    reboot: Argv,
    selfTest: Argv,
    rebootAfterRollback: t.boolean,
    allowedUrlPrefixes: Argv,
    /** CA certificates (PEM) for the image downloads; default Node's list (not `ca`, which is for AWS IoT). */
    downloadCa: t.string,
    /** The service's step timer (renewed by progress and a heartbeat); a job stuck longer ends TIMED_OUT. */
    stepTimeoutInMinutes: t.number,
  }),
]);
export type UpdaterConfig = t.TypeOf<typeof UpdaterConfig>;

/** Reads and checks the configuration file; throws with readable lines when it is not valid. */
export const loadConfig = (path: string): UpdaterConfig => {
  const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
  const decoded = UpdaterConfig.decode(parsed);
  if (isLeft(decoded)) throw new Error(`${path} is not a valid updater configuration:\n  ${PathReporter.report(decoded).join('\n  ')}`);
  return decoded.right;
};

/** One log line for a runner event (journald adds the time). */
export const eventLine = (event: RunnerEvent): string => {
  const job = 'jobId' in event ? ` ${event.jobId}#${String(event.executionNumber)}` : '';
  switch (event.kind) {
    case 'started':
    case 'resumed':
      return `${event.kind}${job} (${event.handler})`;
    case 'progress':
      return `progress${job} ${event.step ?? ''} ${event.percent === undefined ? '' : `${Math.round(event.percent)}%`}`.trimEnd();
    case 'succeeded':
      return `succeeded${job} ${JSON.stringify(event.statusDetails)}`;
    case 'failed':
    case 'rejected':
      return `${event.kind}${job}: ${event.reason}`;
    case 'canceled':
      return `canceled${job} (${event.status})`;
    case 'reported':
      return `reported${job} ${event.status} after ${event.attempts} attempt(s)`;
    case 'error':
      return `error${job}: ${event.error.name}: ${event.error.message}`;
    default:
      return event.kind; // e.g. idle
  }
};

const pem = (path: string | undefined): Buffer | undefined => (path === undefined ? undefined : readFileSync(path));

/** Connects and runs the updater until `stop` emits; resolves once stopped and disconnected. */
export const runUpdater = async (config: UpdaterConfig, stop: Observable<unknown>, log: (line: string) => void): Promise<void> => {
  const cert = pem(config.cert);
  const key = pem(config.key);
  const ca = pem(config.ca);
  const downloadCa = pem(config.downloadCa);
  const mqtt = await connectMqtt({
    url: config.endpoint,
    clientId: config.thingName,
    ...(cert === undefined ? {} : { cert }),
    ...(key === undefined ? {} : { key }),
    ...(ca === undefined ? {} : { ca }),
  });
  log(`connected to ${config.endpoint} as ${config.thingName}`);
  const port = fromMqttClient(mqtt);
  const jobs = createJobsClient({ thingName: config.thingName, transport: mqttTransport(port) });
  // connectMqtt resolved on the first CONNACK, so every `up` from here on is a reconnect.
  const reconnected = port.connection$.pipe(filter((state) => state === 'up'));
  const handler = firmwareUpdateHandler({
    installDir: config.installDir,
    ...(config.reboot === undefined ? {} : { reboot: config.reboot }),
    ...(config.selfTest === undefined ? {} : { selfTest: config.selfTest }),
    ...(config.rebootAfterRollback === undefined ? {} : { rebootAfterRollback: config.rebootAfterRollback }),
    ...(config.allowedUrlPrefixes === undefined ? {} : { allowedUrlPrefixes: config.allowedUrlPrefixes }),
    ...(downloadCa === undefined ? {} : { ca: downloadCa }),
  });
  mkdirSync(dirname(config.journal), { recursive: true, mode: 0o700 });
  try {
    await new Promise<void>((resolve, reject) => {
      runJobs(jobs, {
        handlers: [handler],
        journal: config.journal,
        reconnected,
        ...(config.stepTimeoutInMinutes === undefined ? {} : { stepTimeoutInMinutes: config.stepTimeoutInMinutes }),
      })
        .pipe(takeUntil(stop))
        .subscribe({
          next: (event) => {
            log(eventLine(event));
          },
          error: reject, // only JournalError: the journal cannot be written
          complete: resolve,
        });
    });
  } finally {
    await mqtt.endAsync();
  }
};

if (require.main === module) {
  const path = process.argv[2] ?? process.env['IOT_JOBS_UPDATER_CONFIG'] ?? '/etc/iot-jobs/updater.json';
  const signals = merge(fromEvent(process, 'SIGINT'), fromEvent(process, 'SIGTERM')).pipe(map(() => 'stop'));
  const stop = signals.pipe(take(1));
  // A second signal while stopping: give up waiting.
  signals.pipe(filter((_, n) => n >= 1), take(1)).subscribe(() => process.exit(130));
  const log = (line: string): void => {
    console.log(line);
  };
  Promise.resolve()
    .then(() => runUpdater(loadConfig(path), stop, log))
    .then(() => {
      log('stopped');
      process.exit(0);
    })
    .catch((error: unknown) => {
      console.error(isJobsError(error) ? `${error.name}: ${error.message}` : error);
      process.exit(1); // systemd restarts us (Restart=always)
    });
}
