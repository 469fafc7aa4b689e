import type { Command } from 'commander';
import { addConnectionOptions, connectionFlagsOf } from './connection-options';
import { resolveConnection, type ConnectionSettings } from './connection-settings';
import type { CliIo } from './io';
import { openJobsClient, type OpenJobsClientOptions, type OpenedJobsClient } from './open-client';

/** What a device command's body gets. */
export interface DeviceContext {
  /** The open client; the connection is closed after the body, whatever happens. */
  readonly opened: OpenedJobsClient;
  /** The resolved settings (thing name, endpoint, ...). */
  readonly settings: ConnectionSettings;
  /** `--json`: one JSON document per line on stdout, nothing else there. */
  readonly json: boolean;
  /** Where to write. */
  readonly io: CliIo;
}

/** Adds a device sub-command with the shared connection options and `--json`; configure it further and give it an action. */
export const deviceCommand = (program: Command, name: string, description: string): Command =>
  addConnectionOptions(program.command(name).description(description)).option('--json', 'print one JSON document per line');

/** True when the global `--verbose` was given. */
export const isVerbose = (command: Command): boolean => command.optsWithGlobals<{ verbose?: boolean }>().verbose === true;

/**
 * Resolves the command's connection settings (all checks before any I/O), opens the client, runs `use`,
 * and always closes the connection, so the process can exit by itself. With `--verbose`, prints where it
 * connects (never a secret).
 */
export const withClient = async (
  command: Command,
  io: CliIo,
  use: (context: DeviceContext) => Promise<void>,
  options: OpenJobsClientOptions = {},
): Promise<void> => {
  const opts: Readonly<Record<string, unknown>> = command.opts();
  const settings = resolveConnection(connectionFlagsOf(opts), io);
  if (isVerbose(command)) io.stderr.write(`iot-jobs: connecting to ${settings.summary}\n`);
  const opened = await openJobsClient(settings, options);
  try {
    await use({ opened, settings, json: opts['json'] === true, io });
  } finally {
    await opened.close();
  }
};
