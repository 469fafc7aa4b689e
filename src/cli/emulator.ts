import { InvalidArgumentError, type Command } from 'commander';
import { startEmulator, type EmulatorOptions } from '../emulator';

/** Default ports of `iot-jobs emulator` (docs/emulator.md). */
export const emulatorDefaultPorts = { mqtt: 1883, mqttTls: 8883, data: 8080, dataTls: 8443, control: 8081 } as const;

const port = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65_535) throw new InvalidArgumentError(`not a port: ${value}`);
  return n;
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
}

/** `iot-jobs emulator`: runs the local AWS IoT Jobs service until SIGINT or SIGTERM. */
export const emulatorCommand = (program: Command): void => {
  program
    .command('emulator')
    .description('run a local AWS IoT Jobs service (MQTT, iot-jobs-data HTTP API, control plane); prints its endpoints as one JSON line')
    .option('--host <address>', 'interface to listen on', '127.0.0.1')
    .option('--mqtt-port <port>', `MQTT port (default ${emulatorDefaultPorts.mqtt}, ${emulatorDefaultPorts.mqttTls} with --tls)`, port)
    .option('--data-port <port>', `iot-jobs-data API port (default ${emulatorDefaultPorts.data}, ${emulatorDefaultPorts.dataTls} with --tls)`, port)
    .option('--control-port <port>', 'control-plane port', port, emulatorDefaultPorts.control)
    .option('--tls <dir>', 'TLS mode: create a local CA, server and device certificates in <dir>; MQTT requires a device certificate')
    .option('--thing <name>', 'thing to issue a device certificate for in TLS mode (repeatable)', (v: string, all: string[]) => [...all, v], [])
    .option('--strict', 'a device may only publish and subscribe its own thing\'s topics (client id or certificate CN)')
    .option('--state <file>', 'keep jobs and executions in <file> across restarts')
    .action(async (flags: EmulatorFlags) => {
      const tls = flags.tls !== undefined;
      const options: EmulatorOptions = {
        host: flags.host,
        mqttPort: flags.mqttPort ?? (tls ? emulatorDefaultPorts.mqttTls : emulatorDefaultPorts.mqtt),
        dataPort: flags.dataPort ?? (tls ? emulatorDefaultPorts.dataTls : emulatorDefaultPorts.data),
        controlPort: flags.controlPort,
        strict: flags.strict === true,
        ...(flags.tls === undefined ? {} : { tlsDir: flags.tls, tlsThings: flags.thing.length > 0 ? flags.thing : ['thing-A'] }),
        ...(flags.state === undefined ? {} : { statePath: flags.state }),
      };
      const emulator = await startEmulator(options);
      const { mqttUrl, dataEndpoint, controlEndpoint, credentials, credentialsEndpoint } = emulator;
      const tlsFields = flags.tls === undefined ? {} : { tlsDir: flags.tls, credentialsEndpoint };
      process.stdout.write(`${JSON.stringify({ mqttUrl, dataEndpoint, controlEndpoint, credentials, ...tlsFields })}\n`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await emulator.close();
    });
};
