import { readFileSync } from 'node:fs';
import { InvalidArgumentError, type Command } from 'commander';
import { startEmulator, type EmulatorOptions } from '../emulator';
import { isFileName } from '../emulator/file-store';
import { isThingName } from '../codecs/primitives';
import type { CliIo } from './io';
import { firstValueFrom } from './rx';
import { signalRequested } from './stop';

/** Default ports of `iot-jobs emulator` (docs/emulator.md). */
export const emulatorDefaultPorts = { mqtt: 1883, mqttTls: 8883, data: 8080, dataTls: 8443, control: 8081 } as const;

// Decimal digits only: Number() would take '' (0, a random port), '0x10' and '1e3'.
const port = (value: string): number => {
  const n = /^\d{1,5}$/u.test(value) ? Number(value) : Number.NaN;
  if (!Number.isInteger(n) || n < 0 || n > 65_535) throw new InvalidArgumentError(`not a port: ${value}`);
  return n;
};

// Checked with the flags, before --tls writes keys for it.
const thingFlag = (value: string, all: string[]): string[] => {
  if (!isThingName(value)) throw new InvalidArgumentError(`not a thing name (1-128 of [a-zA-Z0-9:_-]): ${JSON.stringify(value)}`);
  return [...all, value];
};

const positiveNumber = (value: string): number => {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`not a positive number: ${value}`);
  return n;
};

const positiveInteger = (value: string): number => {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError(`not a whole number ≥ 1: ${value}`);
  return n;
};

/** `--file name=path`, repeatable: reads the file now, so a bad one is a usage error (exit 2). */
const fileFlag = (value: string, all: Readonly<Record<string, Uint8Array>>): Readonly<Record<string, Uint8Array>> => {
  const at = value.indexOf('=');
  const name = value.slice(0, at);
  const path = value.slice(at + 1);
  if (at < 0 || path === '') throw new InvalidArgumentError(`expected <name>=<path>, got ${value}`);
  if (!isFileName(name)) throw new InvalidArgumentError(`file name must be 1-128 of [A-Za-z0-9._-], not . or ..: ${name}`);
  if (Object.hasOwn(all, name)) throw new InvalidArgumentError(`file name given twice: ${name}`);
  try {
    return { ...all, [name]: readFileSync(path) };
  } catch (error) {
    throw new InvalidArgumentError(`cannot read ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
};

interface EmulatorFlags {
  readonly host: string;
  readonly mqttPort?: number;
  readonly dataPort?: number;
  readonly controlPort: number;
  readonly tls?: string;
  readonly thing: string[];
  readonly strict?: boolean;
  readonly state?: string;
  readonly rateLimit?: number;
  readonly burst?: number;
  readonly file: Readonly<Record<string, Uint8Array>>;
}

/** `iot-jobs emulator`: runs the local AWS IoT Jobs service until SIGINT or SIGTERM (or `io.signal`). */
export const emulatorCommand = (program: Command, io: CliIo): void => {
  program
    .command('emulator')
    .description('run a local AWS IoT Jobs service (MQTT, iot-jobs-data HTTP API, control plane); prints its endpoints as one JSON line')
    .option('--host <address>', 'interface to listen on', '127.0.0.1')
    .option('--mqtt-port <port>', `MQTT port (default ${emulatorDefaultPorts.mqtt}, ${emulatorDefaultPorts.mqttTls} with --tls)`, port)
    .option('--data-port <port>', `iot-jobs-data API port (default ${emulatorDefaultPorts.data}, ${emulatorDefaultPorts.dataTls} with --tls)`, port)
    .option('--control-port <port>', 'control-plane port', port, emulatorDefaultPorts.control)
    .option('--tls <dir>', 'TLS mode: create a local CA, server and device certificates in <dir>; MQTT requires a device certificate')
    .option('--thing <name>', 'thing to issue a device certificate for in TLS mode (repeatable)', thingFlag, [])
    .option('--strict', 'a device may only publish and subscribe its own thing\'s topics (client id or certificate CN)')
    .option('--state <file>', 'keep jobs and executions in <file> across restarts')
    .option('--rate-limit <requestsPerSecond>', 'throttle each thing\'s device requests (MQTT and HTTP together) above this rate (default: no limit)', positiveNumber)
    .option('--burst <n>', 'requests a thing may make at once under --rate-limit (default: the rate, rounded up)', positiveInteger)
    .option('--file <name=path>', 'serve the file at <path> as <controlEndpoint>/files/<name> (repeatable)', fileFlag, {})
    .action(async (flags: EmulatorFlags, command: Command) => {
      if (flags.burst !== undefined && flags.rateLimit === undefined) command.error('error: --burst needs --rate-limit', { exitCode: 2 });
      const tls = flags.tls !== undefined;
      const options: EmulatorOptions = {
        host: flags.host,
        mqttPort: flags.mqttPort ?? (tls ? emulatorDefaultPorts.mqttTls : emulatorDefaultPorts.mqtt),
        dataPort: flags.dataPort ?? (tls ? emulatorDefaultPorts.dataTls : emulatorDefaultPorts.data),
        controlPort: flags.controlPort,
        strict: flags.strict === true,
        ...(flags.tls === undefined ? {} : { tlsDir: flags.tls, tlsThings: flags.thing.length > 0 ? flags.thing : ['thing-A'] }),
        ...(flags.state === undefined ? {} : { statePath: flags.state }),
        ...(flags.rateLimit === undefined ? {} : { rateLimit: { requestsPerSecond: flags.rateLimit, ...(flags.burst === undefined ? {} : { burst: flags.burst }) } }),
        files: flags.file,
      };
      const emulator = await startEmulator(options);
      const { mqttUrl, dataEndpoint, controlEndpoint, credentials, credentialsEndpoint } = emulator;
      const tlsFields = flags.tls === undefined ? {} : { tlsDir: flags.tls, credentialsEndpoint };
      io.stdout.write(`${JSON.stringify({ mqttUrl, dataEndpoint, controlEndpoint, credentials, ...tlsFields })}\n`);
      await firstValueFrom(signalRequested(io));
      await emulator.close();
    });
};
