import { Command, CommanderError } from 'commander';
import { demoCommand } from './demo';
import { describeCommand } from './describe';
import { emulatorCommand } from './emulator';
import { exitCodeOf, formatError, oneLine } from './errors';
import { processIo, type CliIo } from './io';
import { pendingCommand } from './pending';
import { runCommand } from './run';
import { startNextCommand } from './start-next';
import { updateCommand } from './update';
import { watchCommand } from './watch';

export type { CliIo, CliOutput } from './io';
export { addConnectionOptions, connectionFlagsOf, type ConnectionFlags } from './connection-options';
export { resolveConnection, type ConnectionSettings } from './connection-settings';
export { openJobsClient, type OpenJobsClientOptions, type OpenedJobsClient } from './open-client';

/**
 * The `iot-jobs` command. Exit codes: 0 success, 1 a failure while running, 2 bad usage or configuration.
 * Errors print as one line; `--verbose` adds the stack. `io` defaults to the process (stdout, stderr,
 * environment, working folder); tests pass buffers.
 */
export const main = async (argv: readonly string[], io: CliIo = processIo()): Promise<number> => {
  const program = new Command('iot-jobs')
    .description('AWS IoT Jobs for devices: run jobs, inspect them, and emulate the service locally')
    .option('--verbose', 'print stack traces with errors')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      // Usage errors in the CLI's one-line form: `iot-jobs: UsageError: unknown option '--bogus'`.
      // One line, whatever the argument it quotes holds (a pretty-printed --details, an escape sequence).
      outputError: (text, write) => write(`iot-jobs: UsageError: ${oneLine(text.replace(/^error: /, '').trimEnd())}\n`),
    });
  emulatorCommand(program, io);
  describeCommand(program, io);
  pendingCommand(program, io);
  startNextCommand(program, io);
  updateCommand(program, io);
  watchCommand(program, io);
  runCommand(program, io);
  demoCommand(program, io);
  try {
    await program.parseAsync([...argv]);
    return 0;
  } catch (error) {
    const code = exitCodeOf(error);
    // commander has printed its own message (or the help) already.
    if (!(error instanceof CommanderError)) {
      io.stderr.write(formatError(error, program.opts<{ verbose?: boolean }>().verbose === true));
    }
    return code;
  }
};

if (require.main === module) {
  void main(process.argv).then((code) => {
    process.exitCode = code;
  });
}
