import type { Command } from 'commander';
import { millisecondsArg } from './args';

/** The connection flags as given on the command line; absent when not given. */
export interface ConnectionFlags {
  readonly endpoint?: string;
  readonly thing?: string;
  readonly clientId?: string;
  readonly cert?: string;
  readonly key?: string;
  readonly ca?: string;
  readonly region?: string;
  readonly credentialsEndpoint?: string;
  readonly roleAlias?: string;
  readonly timeout?: number;
  readonly config?: string;
}

/**
 * The shared connection settings: flag, environment variable and config-file key of each. Flags win over
 * the environment, the environment over the config file (docs/cli.md).
 */
export const connectionOptions = [
  { flag: 'endpoint', env: 'IOT_JOBS_ENDPOINT', key: 'endpoint', value: '<url>', help: 'mqtt://, mqtts:// or https:// endpoint (http:// for a loopback emulator)' },
  { flag: 'thing', env: 'IOT_JOBS_THING', key: 'thing', value: '<name>', help: 'thing name' },
  { flag: 'clientId', env: 'IOT_JOBS_CLIENT_ID', key: 'clientId', value: '<id>', help: 'MQTT client id (default: the thing name)' },
  { flag: 'cert', env: 'IOT_JOBS_CERT', key: 'cert', value: '<file>', help: 'device certificate (PEM) for mutual TLS' },
  { flag: 'key', env: 'IOT_JOBS_KEY', key: 'key', value: '<file>', help: 'device private key (PEM)' },
  { flag: 'ca', env: 'IOT_JOBS_CA', key: 'ca', value: '<file>', help: 'CA certificates (PEM) to trust' },
  { flag: 'region', env: 'IOT_JOBS_REGION', key: 'region', value: '<region>', help: 'SigV4 region (default: AWS_REGION, or from the endpoint host)' },
  { flag: 'credentialsEndpoint', env: 'IOT_JOBS_CREDENTIALS_ENDPOINT', key: 'credentialsEndpoint', value: '<url>', help: 'AWS IoT credentials provider, with --role-alias and the device certificate' },
  { flag: 'roleAlias', env: 'IOT_JOBS_ROLE_ALIAS', key: 'roleAlias', value: '<name>', help: 'role alias for the credentials provider' },
] as const;

const kebab = (name: string): string => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** `--client-id` for `clientId`. */
export const flagName = (name: string): string => `--${kebab(name)}`;

/**
 * Adds the shared connection options to a device sub-command (`describe`, `run`, ...). Read them back with
 * {@link connectionFlagsOf}; resolve them with `resolveConnection`.
 */
export const addConnectionOptions = (command: Command): Command => {
  for (const option of connectionOptions) command.option(`${flagName(option.flag)} ${option.value}`, `${option.help} [${option.env}]`);
  return command
    .option('--timeout <ms>', 'deadline of each request and of the connection (default 10000) [IOT_JOBS_TIMEOUT]', millisecondsArg)
    .option('--config <file>', 'JSON config file with these settings and SigV4 keys [IOT_JOBS_CONFIG]');
};

const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/** The connection flags out of commander's option values (`command.opts()`). */
export const connectionFlagsOf = (opts: Readonly<Record<string, unknown>>): ConnectionFlags => {
  const strings = Object.fromEntries(
    ['config', ...connectionOptions.map((o) => o.flag)].flatMap((name) => {
      const value = text(opts[name]);
      return value === undefined ? [] : [[name, value]];
    }),
  );
  const timeout = opts['timeout'];
  return { ...strings, ...(typeof timeout === 'number' ? { timeout } : {}) };
};
