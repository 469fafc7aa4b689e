import { readFileSync } from 'node:fs';
import { dirname, resolve as resolvePath } from 'node:path';
import { isThingName } from '../codecs/primitives';
import { iotCredentialsProvider, staticCredentials } from '../transport/credentials';
import { isRegionName, regionOf } from '../transport/https';
import type { CredentialsProvider } from '../transport/sigv4';
import { readConfigFile, type ConfigFile } from './config-file';
import { connectionOptions, flagName, type ConnectionFlags } from './connection-options';
import { ConfigError, errnoCode, oneLine } from './errors';
import type { CliIo } from './io';
import { isLoopbackHost } from '../util/loopback';
import { maxTimerMs } from '../util/timer-limit';

/** Everything needed to open a connection, checked, with the PEM files read. Holds no secret in plain sight. */
export interface ConnectionSettings {
  /** The endpoint URL as given. */
  readonly endpoint: string;
  /** `mqtt` for mqtt:// and mqtts://, `https` for https:// and loopback http://. */
  readonly protocol: 'mqtt' | 'https';
  readonly thingName: string;
  /** MQTT client id: the thing name unless given. */
  readonly clientId: string;
  /** PEM contents of `--cert`, `--key`, `--ca`. */
  readonly tls: { readonly cert?: Buffer; readonly key?: Buffer; readonly ca?: Buffer };
  /** SigV4 region (HTTPS with credentials). */
  readonly region?: string;
  /** SigV4 credentials (HTTPS); absent over HTTPS means device-certificate mode. */
  readonly credentials?: CredentialsProvider;
  /** Request (and MQTT connect) deadline. */
  readonly timeoutMs: number;
  /** One line for `--verbose`: endpoint, thing, client id and where credentials come from; no secret. */
  readonly summary: string;
}

type Env = CliIo['env'];
type Name = (typeof connectionOptions)[number]['flag'];

interface Picked {
  readonly value: string;
  /** Where it came from, for messages: `--thing`, `IOT_JOBS_THING`, `config file F: thing`. */
  readonly from: string;
  /** Folder relative paths resolve against. */
  readonly base: string;
}

interface Config {
  readonly file: string;
  readonly values: ConfigFile;
}

const envValue = (env: Env, name: string): string | undefined => {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
};


const readPem = (picked: Picked | undefined): Buffer | undefined => {
  if (picked === undefined) return undefined;
  const path = resolvePath(picked.base, picked.value);
  try {
    return readFileSync(path);
  } catch (error) {
    const code = errnoCode(error);
    throw new ConfigError(`${picked.from}: cannot read ${path} (${code})`);
  }
};

const parseEndpoint = (picked: Picked): { url: URL; protocol: 'mqtt' | 'https' } => {
  let url: URL;
  try {
    url = new URL(picked.value);
  } catch {
    // The value is not echoed: a mistyped URL may still hold a password.
    throw new ConfigError(`${picked.from}: not a URL; expected one such as mqtts://host:8883 or https://host`);
  }
  if (url.username !== '' || url.password !== '') throw new ConfigError(`${picked.from}: a user name or password in the URL is not supported (and would show in ps)`);
  // The transports use the host and port only: a path or query would be dropped without a word.
  if ((url.pathname !== '' && url.pathname !== '/') || url.search !== '' || url.hash !== '') {
    throw new ConfigError(`${picked.from}: a path, query or fragment in the endpoint is not supported; give scheme://host[:port]`);
  }
  if (url.protocol === 'mqtt:' || url.protocol === 'mqtts:') return { url, protocol: 'mqtt' };
  if (url.protocol === 'https:') return { url, protocol: 'https' };
  if (url.protocol === 'http:') {
    if (isLoopbackHost(url.hostname)) return { url, protocol: 'https' };
    throw new ConfigError(`${picked.from}: http:// is only for a loopback host (the emulator); use https://`);
  }
  throw new ConfigError(`${picked.from}: expected mqtt://, mqtts://, https:// or a loopback http:// URL, got ${url.protocol}//`);
};

const parseTimeout = (value: number | string, from: string): number => {
  const n = typeof value === 'number' ? value : /^\d{1,10}$/.test(value) ? Number(value) : Number.NaN;
  if (!(Number.isInteger(n) && n >= 1 && n <= maxTimerMs)) throw new ConfigError(`${from}: expected milliseconds, 1-${maxTimerMs}`);
  return n;
};

/** SigV4 keys from the environment, else from the config file; a half pair is an error. */
const accessKeys = (env: Env, config: Config | undefined): { credentials: CredentialsProvider; source: string } | undefined => {
  const [id, secret, token] = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN'].map((name) => envValue(env, name));
  if (id !== undefined || secret !== undefined) {
    if (id === undefined || secret === undefined) throw new ConfigError(`${id === undefined ? 'AWS_ACCESS_KEY_ID' : 'AWS_SECRET_ACCESS_KEY'}: not set (the other key is)`);
    return { credentials: staticCredentials({ accessKeyId: id, secretAccessKey: secret, ...(token === undefined ? {} : { sessionToken: token }) }), source: 'SigV4 keys from the environment' };
  }
  const values = config?.values ?? {};
  const { accessKeyId, secretAccessKey, sessionToken } = values;
  if (config === undefined || (accessKeyId === undefined && secretAccessKey === undefined)) return undefined;
  if (accessKeyId === undefined || secretAccessKey === undefined || accessKeyId === '' || secretAccessKey === '') {
    throw new ConfigError(`config file ${config.file}: accessKeyId and secretAccessKey go together and must not be empty`);
  }
  return {
    credentials: staticCredentials({ accessKeyId, secretAccessKey, ...(sessionToken === undefined || sessionToken === '' ? {} : { sessionToken }) }),
    source: `SigV4 keys from config file ${config.file}`,
  };
};

/**
 * Resolves the connection settings: each from its flag, else its `IOT_JOBS_*` variable, else the config
 * file (`--config` or `IOT_JOBS_CONFIG`), else its default; checks them and reads the PEM files. Relative
 * paths resolve against `io.cwd`, or the config file's folder for paths from the file. No network I/O.
 * Errors: throws ConfigError (exit code 2) for anything missing or invalid, an invalid thing name first,
 * and InvalidRequestError for a bad role alias or credentials endpoint.
 */
export const resolveConnection = (flags: ConnectionFlags, io: Pick<CliIo, 'env' | 'cwd'>): ConnectionSettings => {
  const { env, cwd } = io;
  const configPath = flags.config ?? envValue(env, 'IOT_JOBS_CONFIG');
  const configFile = configPath === undefined ? undefined : resolvePath(cwd, configPath);
  const config: Config | undefined = configFile === undefined ? undefined : { file: configFile, values: readConfigFile(configFile) };
  const pick = (name: Name): Picked | undefined => {
    const option = connectionOptions.find((o) => o.flag === name);
    const flag = flags[name];
    if (flag !== undefined) return { value: flag, from: flagName(name), base: cwd };
    const fromEnv = option === undefined ? undefined : envValue(env, option.env);
    if (fromEnv !== undefined && option !== undefined) return { value: fromEnv, from: option.env, base: cwd };
    const fromFile = config?.values[name];
    return fromFile === undefined || config === undefined ? undefined : { value: fromFile, from: `config file ${config.file}: ${name}`, base: dirname(config.file) };
  };
  const required = (name: Name): Picked => {
    const picked = pick(name);
    if (picked === undefined) throw new ConfigError(`${flagName(name)}: required (or ${connectionOptions.find((o) => o.flag === name)?.env ?? ''}, or "${name}" in the config file)`);
    return picked;
  };

  const thing = required('thing');
  if (!isThingName(thing.value)) throw new ConfigError(`${thing.from}: expected a thing name (1-128 of [a-zA-Z0-9:_-]), got ${JSON.stringify(thing.value)}`);
  const endpoint = required('endpoint');
  const { url, protocol } = parseEndpoint(endpoint);
  const clientId = pick('clientId')?.value ?? thing.value;
  const timeoutEnv = envValue(env, 'IOT_JOBS_TIMEOUT');
  const timeoutMs =
    flags.timeout !== undefined ? parseTimeout(flags.timeout, '--timeout')
    : timeoutEnv !== undefined ? parseTimeout(timeoutEnv, 'IOT_JOBS_TIMEOUT')
    : config?.values.timeoutMs !== undefined ? parseTimeout(config.values.timeoutMs, `config file ${config.file}: timeoutMs`)
    : 10_000;
  const certPick = pick('cert');
  const keyPick = pick('key');
  const caPick = pick('ca');
  if ((certPick === undefined) !== (keyPick === undefined)) throw new ConfigError(`${(certPick ?? keyPick)?.from ?? '--cert'}: --cert and --key go together`);
  // Otherwise ignored: the connection would be in the clear while the user believes it is mutual TLS.
  const tlsPick = certPick ?? caPick;
  if (url.protocol === 'mqtt:' && tlsPick !== undefined) throw new ConfigError(`${tlsPick.from}: mqtt:// is plain TCP: TLS files need mqtts://`);
  const [cert, key, ca] = [readPem(certPick), readPem(keyPick), readPem(caPick)];
  const tls = { ...(cert === undefined ? {} : { cert }), ...(key === undefined ? {} : { key }), ...(ca === undefined ? {} : { ca }) };
  const base = `${url.href} as ${thing.value}`;
  if (protocol === 'mqtt') {
    return { endpoint: endpoint.value, protocol, thingName: thing.value, clientId, tls, timeoutMs, summary: `${base} (client id ${clientId}${cert === undefined ? '' : ', device certificate'})` };
  }

  const credentialsEndpoint = pick('credentialsEndpoint');
  const roleAlias = pick('roleAlias');
  let credentials: { credentials: CredentialsProvider; source: string } | undefined;
  if (credentialsEndpoint !== undefined || roleAlias !== undefined) {
    if (credentialsEndpoint === undefined || roleAlias === undefined) throw new ConfigError(`${(credentialsEndpoint ?? roleAlias)?.from ?? ''}: --credentials-endpoint and --role-alias go together`);
    if (cert === undefined || key === undefined) throw new ConfigError(`${credentialsEndpoint.from}: the credentials provider needs the device certificate (--cert and --key)`);
    // As for --endpoint: a password in the URL would show in ps, and in --verbose's connecting line.
    if (/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*@/iu.test(credentialsEndpoint.value)) {
      throw new ConfigError(`${credentialsEndpoint.from}: a user name or password in the URL is not supported (and would show in ps)`);
    }
    const provider = iotCredentialsProvider({ endpoint: credentialsEndpoint.value, roleAlias: roleAlias.value, thingName: thing.value, cert, key, ...(ca === undefined ? {} : { ca }), timeoutMs });
    credentials = { credentials: provider, source: `role alias ${roleAlias.value} from ${credentialsEndpoint.value}` };
  } else {
    credentials = accessKeys(env, config);
  }
  if (credentials === undefined && (cert === undefined || key === undefined)) {
    throw new ConfigError(`${endpoint.from}: an HTTPS endpoint needs credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or accessKeyId and secretAccessKey in the config file), --credentials-endpoint with --role-alias, or --cert and --key`);
  }
  if (credentials === undefined && url.protocol === 'http:') throw new ConfigError(`${endpoint.from}: device-certificate mode needs https://`);
  const region =
    pick('region')?.value ??
    envValue(env, 'AWS_REGION') ??
    envValue(env, 'AWS_DEFAULT_REGION') ??
    regionOf(url.hostname) ??
    (isLoopbackHost(url.hostname) ? 'us-east-1' : undefined);
  if (credentials !== undefined && region === undefined) throw new ConfigError(`--region: required: the endpoint ${url.hostname} names no region (or set AWS_REGION)`);
  // An AWS region name (us-east-1, eu-central-2, us-gov-west-1...): anything else fails later as a bad signature.
  if (credentials !== undefined && region !== undefined && !isRegionName(region)) {
    throw new ConfigError(`--region: expected a region name such as eu-west-1, got ${JSON.stringify(oneLine(region))}`);
  }
  const mode = credentials === undefined ? 'device certificate' : `${credentials.source}, region ${region ?? ''}`;
  return {
    endpoint: endpoint.value,
    protocol,
    thingName: thing.value,
    clientId,
    tls,
    timeoutMs,
    ...(region === undefined ? {} : { region }),
    ...(credentials === undefined ? {} : { credentials: credentials.credentials }),
    summary: `${base} (${mode})`,
  };
};
