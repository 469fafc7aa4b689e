import { readFileSync } from 'node:fs';
import * as t from 'io-ts';
import { ConfigError, errnoCode } from './errors';

/**
 * The JSON config file of the device commands (`--config FILE` or `IOT_JOBS_CONFIG`): the same settings as
 * the connection flags, plus the SigV4 keys, which are never accepted as flags (a command line is visible
 * to every user of the machine in `ps`). Every key is optional; an unknown key or a wrong type is refused.
 */
export const ConfigFile = t.partial(
  {
    endpoint: t.string,
    thing: t.string,
    clientId: t.string,
    cert: t.string,
    key: t.string,
    ca: t.string,
    region: t.string,
    credentialsEndpoint: t.string,
    roleAlias: t.string,
    timeoutMs: t.number,
    accessKeyId: t.string,
    secretAccessKey: t.string,
    sessionToken: t.string,
  },
  'ConfigFile',
);
export type ConfigFile = t.TypeOf<typeof ConfigFile>;

/** The keys of {@link ConfigFile}. */
export type ConfigKey = keyof ConfigFile;

const isConfigKey = (key: string): key is ConfigKey => Object.hasOwn(ConfigFile.props, key);

const jsonType = (value: unknown): string => (value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value);

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Checks a parsed config file. Errors: throws ConfigError naming the file and the first bad key, with the
 * type found but never the value (the file may hold secrets).
 */
export const checkConfigFile = (parsed: unknown, file: string): ConfigFile => {
  if (!isRecord(parsed)) throw new ConfigError(`config file ${file}: expected a JSON object, got ${jsonType(parsed)}`);
  for (const [key, value] of Object.entries(parsed)) {
    if (!isConfigKey(key)) {
      throw new ConfigError(`config file ${file}: unknown key ${JSON.stringify(key)} (known: ${Object.keys(ConfigFile.props).join(', ')})`);
    }
    const codec = ConfigFile.props[key];
    if (!codec.is(value)) throw new ConfigError(`config file ${file}: ${key}: expected a ${codec.name}, got ${jsonType(value)}`);
  }
  if (!ConfigFile.is(parsed)) throw new ConfigError(`config file ${file}: not a valid config`);
  return parsed;
};

/**
 * Reads and checks a config file. Errors: throws ConfigError when the file cannot be read, is not JSON
 * (the parser's message is left out: it quotes the text), or fails {@link checkConfigFile}.
 */
export const readConfigFile = (file: string): ConfigFile => {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = errnoCode(error);
    throw new ConfigError(`config file ${file}: cannot read it (${code})`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ConfigError(`config file ${file}: not valid JSON`);
  }
  return checkConfigFile(parsed, file);
};
