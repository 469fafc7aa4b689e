import type { Command } from 'commander';
import { addConnectionOptions, connectionFlagsOf } from './connection-options';
import { resolveConnection, type ConnectionSettings } from './connection-settings';
import type { CliIo } from './io';
import { openJobsClient, type OpenJobsClientOptions, type OpenedJobsClient } from './open-client';
import type { Subscription } from './rx';
import { stopRequested } from './stop';

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

/** The opened client, or undefined when a stop was asked for first. */
const untilStopped = async (opening: Promise<OpenedJobsClient>, io: CliIo): Promise<OpenedJobsClient | undefined> => {
  const held: { stop?: Subscription } = {};
  const stopped = new Promise<undefined>((resolve) => {
    held.stop = stopRequested(io).subscribe(() => {
      resolve(undefined);
    });
  });
  try {
    return await Promise.race([opening, stopped]);
  } finally {
    held.stop?.unsubscribe();
  }
};

/**
 * Resolves the command's connection settings (all checks before any I/O), opens the client, runs `use`,
 * and always closes the connection, so the process can exit by itself. With `--verbose`, prints where it
 * connects (never a secret). `stoppable` (watch, run): a stop asked for while connecting ends it at once.
 */
export const withClient = async (
  command: Command,
  io: CliIo,
  use: (context: DeviceContext) => Promise<void>,
  options: OpenJobsClientOptions = {},
  { stoppable = false }: { readonly stoppable?: boolean } = {},
): Promise<void> => {
  const opts: Readonly<Record<string, unknown>> = command.opts();
  const settings = resolveConnection(connectionFlagsOf(opts), io);
  if (isVerbose(command)) io.stderr.write(`iot-jobs: connecting to ${settings.summary}\n`);
  // With --verbose a timeout's stack shows the command's call, not only a timer.
  const opening = openJobsClient(settings, { callerStacks: isVerbose(command), ...options });
  // A long-running command (watch, run) stops on Ctrl-C or SIGTERM from the start, also while it connects:
  // it then exits 0 and closes the connection whenever the attempt ends, instead of dying by the signal.
  const opened = stoppable ? await untilStopped(opening, io) : await opening;
  if (opened === undefined) {
    void opening.then(
      (late) => late.close(),
      () => undefined,
    );
    return;
  }
  try {
    await use({ opened, settings, json: opts['json'] === true, io });
  } finally {
    await opened.close();
  }
};
